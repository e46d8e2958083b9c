/**
 * Child process for bench/transport.ts: an echo server on 127.0.0.1:0, either the micro tcp transport
 * (`micro`) or @grpc/grpc-js with raw bytes (`grpc`). Prints its address on stdout, exits on stdin end.
 */
import * as grpc from "@grpc/grpc-js";
import { tcpTransport } from "../src/runtime/transport/tcp/index.js";

const kind = process.argv[2] ?? "micro";

async function main(): Promise<void> {
  if (kind === "micro") {
    const listener = await tcpTransport().listen("127.0.0.1:0", (s) => {
      if (s.header.endpoint === "Echo.Stream") {
        void (async () => {
          const [first] = await Promise.all([s[Symbol.asyncIterator]().next()]);
          const n = Number(Buffer.from(first.value as Uint8Array).toString());
          const m = Buffer.alloc(32, 1);
          for (let i = 0; i < n; i++) await s.send(m);
          s.close();
        })().catch((e) => s.close(e));
        return;
      }
      const it = s[Symbol.asyncIterator]();
      it.next().then((r) => {
        if (!r.done) void s.send(r.value);
        s.close();
      }, (e) => s.close(e));
    });
    process.stdout.write(`${listener.address}\n`);
  } else {
    const server = new grpc.Server();
    const raw = (b: Buffer) => b;
    server.addService(
      {
        Echo: { path: "/bench.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
        Stream: { path: "/bench.Echo/Stream", requestStream: false, responseStream: true, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
      },
      {
        Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
        Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          const n = Number(call.request.toString());
          const m = Buffer.alloc(32, 1);
          let i = 0;
          // Respect backpressure and cancellation as a real server would.
          const pump = () => {
            while (i < n) {
              if (call.cancelled) return;
              i++;
              if (!call.write(m)) return void call.once("drain", pump);
            }
            call.end();
          };
          pump();
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    process.stdout.write(`127.0.0.1:${port}\n`);
  }
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

void main();
