/**
 * The floor of bench/rpc.ts: a bare node:http2 server and client exchanging the same gRPC-framed bytes as
 * the greeter (5-byte prefix + protobuf, grpc-status trailers), with no codec, routing or call machinery. What
 * node's HTTP/2 itself costs; a gRPC implementation on node:http2 cannot beat it by much.
 *
 * Run as a script it is the server (prints `{"event":"ready","address":…}`); the client side is exported.
 */
import { connect, createServer, type ClientHttp2Session } from "node:http2";
import { HelloRequest, HelloResponse } from "./rpc-messages.js";

function framed(bytes: Uint8Array): Buffer {
  const b = Buffer.alloc(5 + bytes.length);
  b.writeUInt32BE(bytes.length, 1);
  b.set(bytes, 5);
  return b;
}

/** Read the framed messages of a buffer (whole messages only; enough for the floor). */
function messages(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off + 5 <= buf.length; ) {
    const n = buf.readUInt32BE(off + 1);
    out.push(buf.subarray(off + 5, off + 5 + n));
    off += 5 + n;
  }
  return out;
}

/** Start the floor server on 127.0.0.1:0. */
export function serve(): Promise<string> {
  const server = createServer({ settings: { initialWindowSize: 1024 * 1024 } });
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", async () => {
      const [req] = messages(Buffer.concat(chunks));
      const name = HelloRequest.decode(req ?? new Uint8Array()).name;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      if (headers[":path"] === "/bench.Greeter/Stream") {
        const n = Number(name);
        for (let i = 0; i < n && !stream.destroyed; i++) {
          if (!stream.write(framed(HelloResponse.encode({ message: `message ${i}` }).finish()))) await new Promise((r) => stream.once("drain", r));
        }
        stream.end();
      } else stream.end(framed(HelloResponse.encode({ message: `Hello ${name}` }).finish()));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`127.0.0.1:${(server.address() as { port: number }).port}`)));
}

/** A bare client over one session: `hello()` is one unary call, `stream(n)` counts a server stream's messages. */
export async function floorClient(address: string): Promise<{ hello(): Promise<string>; stream(n: number): Promise<number>; close(): void }> {
  const session: ClientHttp2Session = connect(`http://${address}`, { settings: { initialWindowSize: 1024 * 1024 } });
  await new Promise((r) => session.once("remoteSettings", r));
  session.setLocalWindowSize(16 * 1024 * 1024);
  const call = (path: string, name: string, onData: (c: Buffer) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
      req.on("data", onData);
      req.on("trailers", (t) => (t["grpc-status"] === "0" ? resolve() : reject(new Error(`grpc-status ${String(t["grpc-status"])}`))));
      req.on("error", reject);
      req.end(framed(HelloRequest.encode({ name }).finish()));
    });
  return {
    async hello() {
      const chunks: Buffer[] = [];
      await call("/bench.Greeter/Hello", "bench", (c) => chunks.push(c));
      return HelloResponse.decode(messages(Buffer.concat(chunks))[0]!).message;
    },
    async stream(n) {
      let bytes = 0;
      let pending: Buffer = Buffer.alloc(0);
      let count = 0;
      await call("/bench.Greeter/Stream", String(n), (c) => {
        bytes += c.length;
        pending = pending.length === 0 ? c : Buffer.concat([pending, c]);
        let off = 0;
        while (off + 5 <= pending.length && off + 5 + pending.readUInt32BE(off + 1) <= pending.length) {
          HelloResponse.decode(pending.subarray(off + 5, off + 5 + pending.readUInt32BE(off + 1)));
          off += 5 + pending.readUInt32BE(off + 1);
          count++;
        }
        pending = pending.subarray(off);
      });
      return bytes > 0 ? count : 0;
    },
    close: () => session.close(),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const address = await serve();
  process.stdout.write(JSON.stringify({ event: "ready", address }) + "\n");
  process.once("SIGTERM", () => process.exit(0));
}
