/**
 * Tracing across real processes: `micro api --tracing` → service alpha → service beta, and alpha publishing to
 * subscriber gamma (direct broker), each process with the OpenTelemetry SDK (test/fixtures/tracing/otel.ts)
 * exporting every span over OTLP/HTTP to a receiver this test runs on loopback. One trace id across all
 * spans, the parent chain gateway SERVER → gateway CLIENT → alpha SERVER → alpha CLIENT → beta SERVER and
 * alpha PRODUCER → gamma CONSUMER, and the semantic-convention attributes.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { MICRO_BIN, stop, testEnv, type Env, type Fixture } from "../../cli/support.js";
import { spawnNode } from "../../support/process.js";

const OTEL = fileURLToPath(new URL("../../fixtures/tracing/otel.js", import.meta.url));
const SERVICE = fileURLToPath(new URL("../../fixtures/tracing/service.js", import.meta.url));

/** OTLP span kinds. */
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
  status: { code?: number; message?: string };
  events: { name: string }[];
}

/** OTLP/JSON ids are hex; accept base64 (protobuf-JSON style) too. */
function hexId(id: string | undefined): string {
  if (!id) return "";
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex");
}

function value(v: OtlpValue): string | number | boolean | undefined {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.boolValue;
}

/** An OTLP/HTTP trace receiver: POST /v1/traces with the JSON encoding the installed exporter sends. */
class Receiver {
  readonly spans: ReceivedSpan[] = [];
  readonly problems: string[] = [];
  private waiters: (() => void)[] = [];
  readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces" || !(req.headers["content-type"] ?? "").includes("json")) {
        this.problems.push(`unexpected ${req.method} ${req.url} ${req.headers["content-type"]}`);
        res.writeHead(400).end();
        return;
      }
      this.add(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      for (const w of this.waiters.splice(0)) w();
    });
  });

  private add(body: { resourceSpans?: { resource?: { attributes?: { key: string; value: OtlpValue }[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] }): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = String(value(rs.resource?.attributes?.find((a) => a.key === "service.name")?.value ?? {}) ?? "");
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attributes: ReceivedSpan["attributes"] = {};
          for (const a of (s.attributes as { key: string; value: OtlpValue }[] | undefined) ?? []) attributes[a.key] = value(a.value);
          this.spans.push({
            service,
            traceId: hexId(s.traceId as string),
            spanId: hexId(s.spanId as string),
            parentSpanId: hexId(s.parentSpanId as string | undefined),
            name: String(s.name),
            kind: Number(s.kind),
            attributes,
            status: (s.status as ReceivedSpan["status"]) ?? {},
            events: (s.events as { name: string }[] | undefined) ?? [],
          });
        }
      }
    }
  }

  /** Resolves once `pred` holds for the spans received; rejects after `ms` listing what arrived. */
  async until(pred: (spans: ReceivedSpan[]) => boolean, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.spans)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`spans did not arrive in time; got ${JSON.stringify(this.spans.map((s) => [s.service, s.kind, s.name]))}; problems: ${this.problems.join("; ")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }
}

const receiver = new Receiver();
const procs: Fixture[] = [];
let env: Env;
let removeEnv: () => void;
let gatewayUrl = "";

function traced(args: string[], name: string, extra: Env = {}): Fixture {
  const endpoint = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/v1/traces`;
  const proc = spawnNode(["--import", OTEL, ...args], { ...env, ...extra, TRACE_SERVICE: name, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint });
  procs.push(proc);
  return proc;
}

before(async () => {
  ({ env, remove: removeEnv } = testEnv());
  await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
  const services = (["beta", "gamma", "alpha"] as const).map((role) => traced([SERVICE], role, { ROLE: role, TOPIC: "trace.events" }));
  await Promise.all(services.map((p) => p.waitFor((e) => e.event === "ready", 30_000)));
  const gateway = traced([MICRO_BIN, "api", "--address", "127.0.0.1:0", "--tracing"], "gateway");
  gatewayUrl = `http://${String((await gateway.started((e) => e.event === "listening")).address)}`;
});

after(async () => {
  await Promise.all(procs.map((p) => stop(p)));
  await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
  removeEnv?.();
});

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

function one(spans: ReceivedSpan[], service: string, kind: number, traceId: string): ReceivedSpan {
  const found = spans.filter((s) => s.service === service && s.kind === kind && s.traceId === traceId);
  assert.equal(found.length, 1, `one ${service} span of kind ${kind} in trace ${traceId}; got ${JSON.stringify(spans.map((s) => [s.service, s.kind, s.name, s.traceId]))}`);
  return found[0]!;
}

test("one trace crosses the gateway, two services and pub/sub, with parents and attributes right", async () => {
  const rsp = await fetch(`${gatewayUrl}/alpha/greeter/hello`, {
    method: "POST",
    headers: { "content-type": "application/json", traceparent: `00-${TRACE}-${CALLER_SPAN}-01` },
    body: JSON.stringify({ name: "John" }),
  });
  assert.equal(rsp.status, 200, await rsp.clone().text());
  assert.deepEqual(await rsp.json(), { message: "alpha: beta: John" });
  await receiver.until((spans) => spans.filter((s) => s.traceId === TRACE).length >= 7);
  const spans = receiver.spans.filter((s) => s.traceId === TRACE);
  assert.equal(spans.length, 7, "seven spans: gateway server+client, alpha server+client+producer, beta server, gamma consumer");

  const gwServer = one(spans, "gateway", SERVER, TRACE);
  const gwClient = one(spans, "gateway", CLIENT, TRACE);
  const aServer = one(spans, "alpha", SERVER, TRACE);
  const aClient = one(spans, "alpha", CLIENT, TRACE);
  const bServer = one(spans, "beta", SERVER, TRACE);
  const aProducer = one(spans, "alpha", PRODUCER, TRACE);
  const cConsumer = one(spans, "gamma", CONSUMER, TRACE);

  assert.equal(gwServer.parentSpanId, CALLER_SPAN, "the gateway continues the caller's traceparent");
  assert.equal(gwClient.parentSpanId, gwServer.spanId);
  assert.equal(aServer.parentSpanId, gwClient.spanId);
  assert.equal(aClient.parentSpanId, aServer.spanId);
  assert.equal(bServer.parentSpanId, aClient.spanId);
  assert.equal(aProducer.parentSpanId, aServer.spanId);
  assert.equal(cConsumer.parentSpanId, aProducer.spanId);

  assert.equal(gwServer.name, "POST /alpha/greeter/hello");
  assert.deepEqual(
    [gwServer.attributes["http.request.method"], gwServer.attributes["url.path"], gwServer.attributes["http.route"], gwServer.attributes["http.response.status_code"]],
    ["POST", "/alpha/greeter/hello", "/alpha/greeter/hello", 200],
  );
  for (const [span, service] of [
    [gwClient, "alpha"],
    [aServer, "alpha"],
    [aClient, "beta"],
    [bServer, "beta"],
  ] as const) {
    assert.equal(span.name, `${service}/Greeter.Hello`);
    assert.equal(span.attributes["rpc.system"], "micro");
    assert.equal(span.attributes["rpc.service"], service);
    assert.equal(span.attributes["rpc.method"], "Greeter.Hello");
    assert.equal(span.attributes["server.address"], service);
    assert.equal(span.attributes["rpc.micro.status_code"], 200);
    assert.notEqual(span.status.code, 2, "not an error");
  }
  assert.equal(aProducer.name, "publish trace.events");
  assert.equal(cConsumer.name, "process trace.events");
  for (const [span, op] of [
    [aProducer, "send"],
    [cConsumer, "process"],
  ] as const) {
    assert.equal(span.attributes["messaging.system"], "direct");
    assert.equal(span.attributes["messaging.destination.name"], "trace.events");
    assert.equal(span.attributes["messaging.operation.type"], op);
  }
  assert.match(String(cConsumer.attributes["messaging.message.id"]), /^[0-9a-f-]{36}$/);
});

test("a failing backend marks its spans ERROR with the MicroError detail and the exception; the gateway answers 409", async () => {
  const rsp = await fetch(`${gatewayUrl}/alpha/greeter/hello`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "fail" }) });
  assert.equal(rsp.status, 409);
  const isFailTrace = (s: ReceivedSpan): boolean => s.service === "beta" && s.kind === SERVER && s.status.code === 2;
  await receiver.until((spans) => {
    const b = spans.find(isFailTrace);
    return b !== undefined && spans.filter((s) => s.traceId === b.traceId).length >= 5;
  });
  const traceId = receiver.spans.find(isFailTrace)!.traceId;
  assert.notEqual(traceId, TRACE, "a request without traceparent starts a new trace");
  const spans = receiver.spans.filter((s) => s.traceId === traceId);
  for (const [service, kind] of [
    ["beta", SERVER],
    ["alpha", CLIENT],
    ["alpha", SERVER],
    ["gateway", CLIENT],
  ] as const) {
    const span = one(spans, service, kind, traceId);
    assert.equal(span.status.code, 2, `${service} ${kind} is ERROR`);
    assert.equal(span.status.message, "beta refuses fail");
    assert.equal(span.attributes["rpc.micro.status_code"], 409);
    assert.ok(span.events.some((e) => e.name === "exception"), "the exception is recorded");
  }
  const gw = one(spans, "gateway", SERVER, traceId);
  assert.equal(gw.attributes["http.response.status_code"], 409);
  assert.notEqual(gw.status.code, 2, "a 4xx answer is not a server error");
  assert.equal(spans.filter((s) => s.kind === PRODUCER).length, 0, "nothing was published");
});
