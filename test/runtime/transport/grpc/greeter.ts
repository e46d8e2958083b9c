/**
 * A micro-ts greeter served over the grpc transport for the interop tests (not a test file), and the same
 * service as grpc-js describes it, so foreign clients and servers speak to micro-ts through `/greeter.v1.Greeter/*`.
 *
 * Handler behaviour by request name: `error:<code>:<text>` throws MicroError(code), `sleep:<ms>` waits (or until
 * the signal fires), `big:<n>` answers n bytes, anything else says `Hello <name>`. `x-echo` and `x-data-bin`
 * request metadata come back as response metadata.
 */
import { MicroError, cacheSelector, newClient, newServer, type Context, type RpcClient, type RpcServer } from "../../../../src/index.js";
import { memoryRegistry } from "../../../../src/runtime/registry/memory/index.js";
import { memoryBroker } from "../../../../src/runtime/broker/memory/index.js";
import { grpcTransport, type GrpcTransportOptions } from "../../../../src/runtime/transport/grpc/index.js";
import { Greeter, HelloRequestCodec, HelloResponseCodec, type HelloRequest, type HelloResponse } from "../../../fixtures/runtime/greeter.js";

process.env.MICRO_LOG_LEVEL ??= "silent";

export { until } from "../helpers.js";

/** What the handlers saw: aborted calls by request name, with the abort's code. */
export interface Seen {
  aborted: Map<string, number>;
  started: Set<string>;
}

function echo(context: Context): void {
  for (const key of ["x-echo", "x-data-bin"]) {
    const v = context.metadata[key];
    if (v !== undefined) context.responseMetadata[key] = v;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}

export function greeterHandler(seen: Seen) {
  const watch = (name: string, context: Context) => {
    seen.started.add(name);
    context.signal.addEventListener("abort", () => seen.aborted.set(name, (context.signal.reason as MicroError)?.code ?? 0), { once: true });
  };
  return {
    async hello(req: HelloRequest, context: Context): Promise<HelloResponse> {
      echo(context);
      const [verb, a = "", b = ""] = req.name.split(":");
      if (verb === "error") throw new MicroError("greeter", Number(a), b);
      if (verb === "sleep") {
        watch(req.name, context);
        await sleep(Number(a), context.signal);
        return { message: "slept" };
      }
      if (verb === "big") return { message: "x".repeat(Number(a)) };
      return { message: `Hello ${req.name}` };
    },
    async *stream(req: HelloRequest, context: Context): AsyncGenerator<HelloResponse> {
      echo(context);
      const [verb, a = ""] = req.name.split(":");
      if (verb === "endless") watch(req.name, context);
      for (let i = 0; verb === "endless" || i < Number(a); i++) {
        if (context.signal.aborted) return;
        yield { message: String(i) };
        if (verb === "endless") await new Promise((r) => setTimeout(r, 2));
      }
    },
    async upload(requests: AsyncIterable<HelloRequest>, context: Context): Promise<HelloResponse> {
      echo(context);
      const names: string[] = [];
      for await (const r of requests) names.push(r.name);
      return { message: names.join(",") };
    },
    async *chat(requests: AsyncIterable<HelloRequest>): AsyncGenerator<HelloResponse> {
      for await (const r of requests) yield { message: `echo ${r.name}` };
    },
  };
}

export interface MicroGreeter {
  server: RpcServer;
  address: string;
  seen: Seen;
  stop(): Promise<void>;
}

/** A micro-ts greeter on the grpc transport at 127.0.0.1:0. */
export async function startMicroGreeter(options: GrpcTransportOptions = {}, maxMessageSize?: number): Promise<MicroGreeter> {
  const seen: Seen = { aborted: new Map(), started: new Set() };
  const registry = memoryRegistry();
  const server = newServer({ name: "greeter", ...(maxMessageSize ? { maxMessageSize } : {}), deps: { registry, transport: grpcTransport(options), broker: memoryBroker() } });
  server.handle(Greeter, greeterHandler(seen));
  await server.start();
  return {
    server,
    address: server.address!,
    seen,
    async stop() {
      await server.stop();
      await registry.close();
    },
  };
}

/** A micro-ts client on the grpc transport (for calls by address). */
export function microGrpcClient(options: GrpcTransportOptions = {}): RpcClient {
  return newClient({ deps: { selector: cacheSelector({ registry: memoryRegistry() }), transport: grpcTransport(options) }, retries: 0 });
}

const ser = <T>(codec: { encode(m: T): Uint8Array }) => (m: T) => Buffer.from(codec.encode(m));
const de = <T>(codec: { decode(b: Uint8Array): T }) => (b: Buffer) => codec.decode(b);

/** The greeter as grpc-js describes a service (for makeGenericClientConstructor and Server.addService). */
export const grpcJsGreeter = Object.fromEntries(
  Object.entries(Greeter.methods).map(([key, m]) => [
    key,
    {
      path: `/${Greeter.fullName}/${m.name}`,
      requestStream: m.kind === "client_streaming" || m.kind === "bidi_streaming",
      responseStream: m.kind === "server_streaming" || m.kind === "bidi_streaming",
      requestSerialize: ser(HelloRequestCodec),
      requestDeserialize: de(HelloRequestCodec),
      responseSerialize: ser(HelloResponseCodec),
      responseDeserialize: de(HelloResponseCodec),
      originalName: m.name,
    },
  ]),
);

/** Call targets with the gRPC path, as a generated client makes them. */
export const targets = {
  hello: { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello, path: "/greeter.v1.Greeter/Hello" },
  stream: { service: "greeter", endpoint: "Greeter.Stream", method: Greeter.methods.stream, path: "/greeter.v1.Greeter/Stream" },
  upload: { service: "greeter", endpoint: "Greeter.Upload", method: Greeter.methods.upload, path: "/greeter.v1.Greeter/Upload" },
  chat: { service: "greeter", endpoint: "Greeter.Chat", method: Greeter.methods.chat, path: "/greeter.v1.Greeter/Chat" },
};
