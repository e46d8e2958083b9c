/**
 * The tracing wrappers in one process with the OpenTelemetry SDK and an in-memory exporter: the trace context
 * crosses each broker (memory, direct, NATS on a real nats-server) from PRODUCER to CONSUMER, a server stream
 * keeps its spans open until it ends with onward calls as children, and a service without `tracing` makes no
 * spans and sends no traceparent.
 */
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-node";
import { SpanKind, trace, context as otelContext } from "@opentelemetry/api";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newService, registerSubscriber, type Context, type Metadata, type Service } from "../../../src/index.js";
import { Greeter, type HelloRequest, type HelloResponse } from "../../fixtures/cli/definitions.js";
import { startNats, type TestServer } from "../../support/servers.js";

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

const services: Service[] = [];
let nats: TestServer | undefined;

before(async () => {
  nats = await startNats({ jetstream: false });
});

after(async () => {
  for (const s of services) await s.stop();
  await nats?.dispose();
  await provider.shutdown();
});

/** A started service on the memory registry with the given broker flags. */
async function started(name: string, flags: string[], setup: (s: Service) => void, tracing = true): Promise<Service> {
  const service = newService({ name, argv: ["--registry", "memory", ...flags], env: {}, handleSignals: false, tracing });
  service.init();
  setup(service);
  await service.start();
  services.push(service);
  return service;
}

function spansOf(traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

async function until(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; spans: ${JSON.stringify(exporter.getFinishedSpans().map((s) => [s.name, s.kind]))}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the trace context crosses each broker", () => {
  for (const broker of ["memory", "direct", "nats"] as const) {
    test(`${broker}: PRODUCER → CONSUMER, one trace, messaging attributes`, async () => {
      const topic = `traced.${broker}`;
      const got: Metadata[] = [];
      const flags = broker === "nats" ? ["--broker", "nats", "--broker_address", nats!.address] : ["--broker", broker];
      const service = await started(`traced-${broker}`, flags, (s) => registerSubscriber(topic, s.server(), (e) => void got.push({ ...e.metadata })));
      const root = trace.getTracer("test").startSpan("root");
      await otelContext.with(trace.setSpan(otelContext.active(), root), () => service.client().publish(topic, { n: 1 }));
      root.end();
      const traceId = root.spanContext().traceId;
      await until(() => spansOf(traceId).some((s) => s.kind === SpanKind.CONSUMER), "the consumer span");
      const producer = spansOf(traceId).find((s) => s.kind === SpanKind.PRODUCER)!;
      const consumer = spansOf(traceId).find((s) => s.kind === SpanKind.CONSUMER)!;
      assert.equal(producer.parentSpanContext?.spanId, root.spanContext().spanId);
      assert.equal(consumer.parentSpanContext?.spanId, producer.spanContext().spanId);
      assert.equal(consumer.attributes["messaging.system"], broker);
      assert.equal(producer.attributes["messaging.destination.name"], topic);
      assert.match(got[0]!.traceparent ?? "", new RegExp(`^00-${traceId}-${producer.spanContext().spanId}-01$`), "the header carries W3C traceparent");
    });
  }
});

test("a server stream's spans last until it ends, and calls made while streaming are its children", async () => {
  const Stream = { name: "Greeter", fullName: "test.greeter.Greeter", methods: { hello: Greeter.methods.hello, stream: Greeter.methods.stream } };
  const service = await started("streamer", ["--broker", "memory"], (s) =>
    s.server().handle(Stream, {
      hello: (req: HelloRequest): HelloResponse => ({ message: `hi ${req.name ?? ""}` }),
      async *stream(req: HelloRequest, ctx: Context): AsyncIterable<HelloResponse> {
        for (let i = 0; i < 2; i++) {
          const rsp = await s.client().call<HelloRequest, HelloResponse>({ service: "streamer", endpoint: "Greeter.Hello", method: Greeter.methods.hello }, { name: `${req.name ?? ""}${i}` }, { signal: ctx.signal });
          yield rsp;
        }
      },
    }),
  );
  const root = trace.getTracer("test").startSpan("root");
  const messages: string[] = [];
  await otelContext.with(trace.setSpan(otelContext.active(), root), async () => {
    for await (const m of service.client().serverStream<HelloRequest, HelloResponse>({ service: "streamer", endpoint: "Greeter.Stream", method: Greeter.methods.stream }, { name: "s" })) messages.push(m.message);
  });
  root.end();
  assert.deepEqual(messages, ["hi s0", "hi s1"]);
  const traceId = root.spanContext().traceId;
  await until(() => spansOf(traceId).filter((s) => s.kind === SpanKind.SERVER).length === 3, "three server spans");
  const spans = spansOf(traceId);
  const streamClient = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === "streamer/Greeter.Stream")!;
  const streamServer = spans.find((s) => s.kind === SpanKind.SERVER && s.name === "streamer/Greeter.Stream")!;
  assert.equal(streamServer.parentSpanContext?.spanId, streamClient.spanContext().spanId);
  const helloClients = spans.filter((s) => s.kind === SpanKind.CLIENT && s.name === "streamer/Greeter.Hello");
  assert.equal(helloClients.length, 2);
  // The exporter (SimpleSpanProcessor) receives each span as it ends: its order is the order of ending. (The
  // spans' end timestamps cannot tell: each span's clock is anchored on its own Date.now(), off by up to 1 ms.)
  for (const c of helloClients) {
    assert.equal(c.parentSpanContext?.spanId, streamServer.spanContext().spanId, "the onward call is a child of the stream's server span");
    assert.ok(spans.indexOf(c) < spans.indexOf(streamServer), "the stream's span ended after the calls made while streaming");
  }
});

test("without tracing: no spans and no traceparent in what is sent", async () => {
  const seen: Metadata[] = [];
  const Hello = { name: "Greeter", fullName: "test.greeter.Greeter", methods: { hello: Greeter.methods.hello } };
  const service = await started(
    "untraced",
    ["--broker", "memory"],
    (s) => {
      s.server().handle(Hello, { hello: (_req: HelloRequest, ctx: Context): HelloResponse => (seen.push({ ...ctx.metadata }), { message: "ok" }) });
      registerSubscriber("untraced.topic", s.server(), (e) => void seen.push({ ...e.metadata }));
    },
    false,
  );
  exporter.reset();
  await service.client().call({ service: "untraced", endpoint: "Greeter.Hello", method: Greeter.methods.hello }, { name: "x" });
  await service.client().publish("untraced.topic", { n: 1 });
  await until(() => seen.length === 2, "the call and the message");
  assert.equal(exporter.getFinishedSpans().length, 0);
  for (const md of seen) assert.equal(md.traceparent, undefined);
});

test("a process whose services do not trace never loads @opentelemetry/api; one that does loads it at the first traced call", async () => {
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const index = fileURLToPath(new URL("../../../src/index.js", import.meta.url));
  const otel = fileURLToPath(new URL("../../../src/runtime/tracing/otel.js", import.meta.url));
  const script = (tracing: boolean): string => `
    const { newService } = await import(${JSON.stringify(index)});
    const { otelLoaded } = await import(${JSON.stringify(otel)});
    const Echo = { name: "Echo", fullName: "t.Echo", methods: { echo: { name: "Echo", kind: "unary",
      input: { typeName: "t.M", encode: (m) => new TextEncoder().encode(JSON.stringify(m)), decode: (b) => JSON.parse(new TextDecoder().decode(b)), fromJSON: (j) => j, toJSON: (m) => m },
      output: { typeName: "t.M", encode: (m) => new TextEncoder().encode(JSON.stringify(m)), decode: (b) => JSON.parse(new TextDecoder().decode(b)), fromJSON: (j) => j, toJSON: (m) => m } } } };
    const s = newService({ name: "echo", argv: ["--registry", "memory", "--broker", "memory"], env: {}, handleSignals: false, tracing: ${tracing} });
    s.init();
    s.server().handle(Echo, { echo: (m) => m });
    await s.start();
    const before = otelLoaded() !== undefined;
    await s.client().call({ service: "echo", endpoint: "Echo.Echo", method: Echo.methods.echo }, { a: 1 });
    console.log(JSON.stringify({ before, after: otelLoaded() !== undefined }));
    await s.stop();`;
  // Without tracing the child refuses to resolve @opentelemetry/api at all: an eager import anywhere fails the run.
  const hook = `export async function resolve(s, c, next) { if (s === "@opentelemetry/api") throw new Error("@opentelemetry/api was imported"); return next(s, c); }`;
  const refuse = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  for (const tracing of [false, true]) {
    const guard = tracing ? [] : ["--import", `data:text/javascript,${encodeURIComponent(refuse)}`];
    const r = spawnSync(process.execPath, [...guard, "--input-type=module", "-e", script(tracing)], { encoding: "utf8", timeout: 60_000, env: { ...process.env, MICRO_LOG_LEVEL: "silent" } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").pop()!), { before: false, after: tracing }, `tracing: ${tracing}`);
  }
});

test("system grpc: rpc.system grpc and the MicroError code as a gRPC status in rpc.grpc.status_code", async () => {
  const { tracingClientWrapper, tracingHandlerWrapper, MicroError } = await import("../../../src/index.js");
  const Hello = { name: "Greeter", fullName: "test.greeter.Greeter", methods: { hello: Greeter.methods.hello } };
  const service = newService({
    name: "grpcish",
    argv: ["--registry", "memory", "--broker", "memory"],
    env: {},
    handleSignals: false,
    wrapClient: tracingClientWrapper({ system: "grpc" }),
    wrapHandler: tracingHandlerWrapper({ system: "grpc" }),
  });
  service.init();
  service.server().handle(Hello, {
    hello: (req: HelloRequest): HelloResponse => {
      if (req.name === "missing") throw MicroError.notFound("grpcish", "no such greeting");
      return { message: "ok" };
    },
  });
  await service.start();
  services.push(service);
  const target = { service: "grpcish", endpoint: "Greeter.Hello", method: Greeter.methods.hello };
  for (const [name, code] of [
    ["x", 0],
    ["missing", 5],
  ] as const) {
    const root = trace.getTracer("test").startSpan("root");
    await otelContext.with(trace.setSpan(otelContext.active(), root), () => service.client().call(target, { name }).catch(() => undefined));
    root.end();
    await until(() => spansOf(root.spanContext().traceId).length === 3, "client and server spans");
    for (const s of spansOf(root.spanContext().traceId).filter((x) => x.kind !== SpanKind.INTERNAL)) {
      assert.equal(s.attributes["rpc.system"], "grpc");
      assert.equal(s.attributes["rpc.grpc.status_code"], code, `${s.name} ${name}`);
      assert.equal(s.attributes["rpc.micro.status_code"], undefined);
    }
  }
});
