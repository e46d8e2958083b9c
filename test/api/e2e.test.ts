/**
 * The real `micro api` bin in front of real service processes on loopback, one gateway per handler.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { startFixture, startGateway, stop, testEnv, type Env, type Fixture } from "../cli/support.js";

let env: Env;
let remove: () => void;
const procs: Fixture[] = [];
let rpc: string;
let rpcProc: Fixture;
let listener: Fixture;
let greeter: Fixture;

before(async () => {
  ({ env, remove } = testEnv());
  const [g, l, w] = await Promise.all([
    startFixture("greeter-service", env),
    startFixture("greeter-service", { ...env, SERVICE_NAME: "listener", SUBSCRIBE: "orders" }),
    startFixture("http-service", env),
  ]);
  listener = l.proc;
  greeter = g.proc;
  procs.push(g.proc, l.proc, w.proc);
  const gw = await startGateway({ ...env, MICRO_LOG_LEVEL: "info" }, ["--timeout", "400ms", "--max_body", "65536"]);
  rpc = gw.url;
  rpcProc = gw.proc;
  procs.push(gw.proc);
});

after(async () => {
  await Promise.all(procs.map((p) => stop(p)));
  remove();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function json(r: Response): Promise<any> {
  return r.json();
}

const post = (url: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }) => fetch(url, { method: "POST", body, headers });

function ws(url: string, frames: string[]): Promise<{ messages: unknown[]; code: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, "ws"));
    const messages: unknown[] = [];
    socket.on("open", () => frames.forEach((f) => socket.send(f)));
    socket.on("message", (d) => messages.push(JSON.parse(d.toString())));
    socket.on("close", (code) => resolve({ messages, code }));
    socket.on("error", reject);
  });
}

describe("rpc handler (default)", () => {
  test("curl-style JSON to /greeter/hello, headers as metadata", async () => {
    const r = await post(`${rpc}/greeter/hello`, '{"name":"John"}', { "content-type": "application/x-www-form-urlencoded", "x-user": "ann" });
    assert.equal(r.status, 200);
    assert.deepEqual(await json(r), { message: "Hello John (ann)" });
  });

  test("http rules: path variables, typed query, body field, response_body, additional bindings", async () => {
    assert.deepEqual(await json(await fetch(`${rpc}/v1/greet/Bob?loud=true`)), { message: "HELLO BOB" });
    assert.deepEqual(await json(await post(`${rpc}/v1/greet`, '{"name":"Body"}')), { message: "Hello Body" });
    assert.deepEqual(await json(await fetch(`${rpc}/v1/users/7?verbose=true`)), { name: "users/7", verbose: true });
    const patched = await fetch(`${rpc}/v1/users/8`, { method: "PATCH", body: '{"email":"e@x"}', headers: { "content-type": "application/json" } });
    assert.deepEqual(await json(patched), { user: { name: "users/8", email: "e@x" }, etag: "e2" });
  });

  test("POST /rpc", async () => {
    const r = await post(`${rpc}/rpc`, JSON.stringify({ service: "greeter", endpoint: "Greeter.Hello", request: { name: "Rpc" } }));
    assert.deepEqual(await json(r), { message: "Hello Rpc" });
  });

  test("protobuf in, protobuf out", async () => {
    const r = await fetch(`${rpc}/greeter/hello`, { method: "POST", body: '{"name":"Bin"}', headers: { "content-type": "application/protobuf" } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/protobuf");
    // The fixture's binary form is JSON text (see test/fixtures/cli/definitions.ts).
    assert.deepEqual(JSON.parse(await r.text()), { message: "Hello Bin" });
  });

  test("server stream over SSE (http rule with a verb) and NDJSON", async () => {
    const r = await fetch(`${rpc}/v1/greet/Ann:stream?count=2`, { headers: { accept: "text/event-stream" } });
    assert.equal(r.headers.get("content-type"), "text/event-stream");
    assert.equal(await r.text(), 'data: {"message":"Ann 0"}\n\ndata: {"message":"Ann 1"}\n\nevent: end\ndata: {}\n\n');
    assert.equal(await (await post(`${rpc}/greeter/stream`, '{"name":"n","count":2}')).text(), '{"message":"n 0"}\n{"message":"n 1"}\n');
  });

  test("server, client and bidi streams over WebSocket", async () => {
    assert.deepEqual(await ws(`${rpc}/greeter/stream`, ['{"name":"w","count":2}']), { messages: [{ message: "w 0" }, { message: "w 1" }], code: 1000 });
    assert.deepEqual(await ws(`${rpc}/greeter/upload`, ['{"name":"a"}', '{"name":"b"}', ""]), { messages: [{ message: "a,b" }], code: 1000 });
    assert.deepEqual(await ws(`${rpc}/greeter/chat`, ['{"name":"a"}', '{"name":"b"}', ""]), { messages: [{ message: "echo a" }, { message: "echo b" }], code: 1000 });
  });

  test("errors: service code kept, unknown 404, malformed 400, 415, 413, timeout 504, no stack traces", async () => {
    const teapot = await post(`${rpc}/greeter/fail`, '{"count":418}');
    assert.equal(teapot.status, 418);
    assert.deepEqual(await json(teapot), { id: "greeter", code: 418, detail: "failed with 418", status: "Error" });
    const plain = await post(`${rpc}/greeter/fail`, '{"name":"plain"}');
    assert.equal(plain.status, 500);
    assert.doesNotMatch(await plain.text(), /\n\s+at |\.js:\d+:\d+/);
    assert.equal((await post(`${rpc}/nosuch/hello`, "{}")).status, 404);
    assert.equal((await post(`${rpc}/greeter/hello`, '{"name"')).status, 400);
    assert.equal((await post(`${rpc}/greeter/hello`, "x", { "content-type": "text/csv" })).status, 415);
    assert.equal((await post(`${rpc}/greeter/hello`, JSON.stringify({ name: "x".repeat(70_000) }))).status, 413);
    const slow = await post(`${rpc}/greeter/slow`, "{}");
    assert.equal(slow.status, 504);
    assert.equal((await json(slow)).code, 504);
  });

  test("--max_body 10000000 and a 5 MB body over the service's message limit: 413 in the gateway's error shape, not a 200 for an empty request", async () => {
    const gw = await startGateway(env, ["--max_body", "10000000"]);
    procs.push(gw.proc);
    const r = await post(`${gw.url}/greeter/hello`, JSON.stringify({ name: "x".repeat(5_000_000) }));
    const body = await json(r);
    assert.equal(r.status, 413, JSON.stringify(body).slice(0, 200));
    assert.deepEqual(Object.keys(body).sort(), ["code", "detail", "id", "status"]);
    assert.equal(body.code, 413);
    assert.match(body.detail, /request message of 500\d{4} bytes exceeds the server's limit of 4194304 bytes; .*maxMessageSize/);
  });

  test("one access-log line per request", async () => {
    // A field of the request (an unknown query parameter is a 400 now that the request fields are known).
    const marker = `/greeter/hello?name=marker${Date.now()}`;
    await fetch(rpc + marker);
    // The log goes to stderr (pino, JSON lines); wait until the line for this request shows up.
    await rpcProc.waitForStderr(`${marker}"`);
    const lines = rpcProc.stderr.split("\n").filter((l) => l.includes(marker));
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.status, 200);
    assert.equal(entry.method, "GET");
  });
});

describe("other handlers", () => {
  test("api handler", async () => {
    const gw = await startGateway(env, ["--handler", "api"]);
    procs.push(gw.proc);
    const r = await post(`${gw.url}/greeter/api/echo?q=1&q=2`, "hello", { "content-type": "text/plain", "x-test": "t" });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get("x-method"), "POST");
    assert.equal(r.headers.get("x-bad"), null);
    assert.equal(r.headers.get("x-injected"), null);
    assert.deepEqual(await json(r), { path: "/greeter/api/echo", q: ["1", "2"], body: "hello", ua: "t" });
  });

  test("http handler proxies requests and WebSockets to a service that registered an HTTP node", async () => {
    const gw = await startGateway(env, ["--handler", "http"]);
    procs.push(gw.proc);
    const r = await post(`${gw.url}/web/some/path?x=1`, "data", { "content-type": "text/plain" });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("x-served-by"), "http-service");
    const body = await json(r);
    assert.deepEqual({ method: body.method, url: body.url, body: body.body }, { method: "POST", url: "/web/some/path?x=1", body: "data" });
    assert.equal((await fetch(`${gw.url}/greeter/hello`)).status, 404); // greeter has no HTTP node
    const echoed = await new Promise<string>((resolve, reject) => {
      const socket = new WebSocket(`${gw.url.replace(/^http/, "ws")}/web/socket?a=1`);
      socket.on("open", () => socket.send("hi"));
      socket.on("message", (d) => {
        resolve(d.toString());
        socket.close();
      });
      socket.on("error", reject);
    });
    assert.equal(echoed, "echo hi /web/socket?a=1");
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${gw.url.replace(/^http/, "ws")}/greeter/socket`);
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      socket.on("open", () => resolve(101));
      socket.on("error", () => resolve(-1));
    });
    assert.equal(refused, 404);
  });

  test("event handler publishes to the broker", async () => {
    const gw = await startGateway(env, ["--handler", "event"]);
    procs.push(gw.proc);
    const r = await post(`${gw.url}/orders/created`, '{"order":1}');
    assert.equal(r.status, 200);
    const e = await listener.waitFor((ev) => ev.event === "message");
    const m = e.message as { name: string; data: string; id: string };
    assert.equal(e.topic, "orders");
    assert.equal(m.name, "created");
    assert.equal(m.data, '{"order":1}');
  });

  test("--namespace and --cors", async () => {
    const named = await startFixture("greeter-service", { ...env, SERVICE_NAME: "com.example.greeter" });
    procs.push(named.proc);
    const gw = await startGateway(env, ["--namespace", "com.example", "--cors", "https://app.example"]);
    procs.push(gw.proc);
    const r = await fetch(`${gw.url}/greeter/hello?name=Ns`, { headers: { origin: "https://app.example" } });
    assert.deepEqual(await json(r), { message: "Hello Ns" });
    assert.equal(r.headers.get("access-control-allow-origin"), "https://app.example");
    const pre = await fetch(`${gw.url}/greeter/hello`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    assert.equal(pre.status, 204);
  });

  test("routes follow the registry's watch: a service started after the gateway is routed", async () => {
    const fresh = testEnv();
    let gw: Fixture | undefined;
    let late: Fixture | undefined;
    try {
      const started = await startGateway({ ...fresh.env, MICRO_LOG_LEVEL: "debug" });
      gw = started.proc;
      assert.equal((await fetch(`${started.url}/v1/greet/Late`)).status, 404);
      late = (await startFixture("greeter-service", fresh.env)).proc;
      // The fixture declares 5 http rules (test/fixtures/cli/definitions.ts).
      await gw.waitForStderr('"routes":5,');
      assert.deepEqual(await json(await fetch(`${started.url}/v1/greet/Late`)), { message: "Hello Late" });
    } finally {
      await Promise.all([stop(gw), stop(late)]);
      fresh.remove();
    }
  });

  test("SIGTERM: in-flight requests finish, then the gateway exits 0", async () => {
    const gw = await startGateway(env, ["--timeout", "10s"]);
    procs.push(gw.proc);
    const inflight = post(`${gw.url}/greeter/slow`, '{"name":"drain","count":300}');
    // Once the service has the call, SIGTERM must not cut it off.
    await greeter.waitFor((e) => e.event === "slow" && e.name === "drain");
    gw.proc.kill("SIGTERM");
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.deepEqual(await json(r), { message: "slow" });
    assert.deepEqual(await gw.proc.exited, { code: 0, signal: null });
  });
});
