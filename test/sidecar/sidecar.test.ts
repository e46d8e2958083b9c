/**
 * `micro sidecar` with real processes on loopback: the Python example app (standard library only) beside a
 * real sidecar process, a real micro-ts service, micro-ts clients in this process, and the `micro` bin with
 * `--proxy_address` and a different, empty registry.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { newClient, readConfig, resolvePlugins, type Plugins, type RpcClient } from "../../src/index.js";
import { Fixture, spawnNode, stop } from "../support/process.js";
import { MICRO_BIN, micro, startFixture, testEnv, type Env } from "../cli/support.js";
import { Greeter } from "../fixtures/cli/definitions.js";

const APP = fileURLToPath(new URL("../../../test/fixtures/sidecar/app.py", import.meta.url));
const INTERVAL = "300ms";

let env: Env;
let removeEnv: () => void;
let app: Fixture;
let appUrl: string;
let sidecar: Fixture;
let sidecarUrl: string;
let sidecarAddress: string;
let greeter: Fixture;
let plugins: Plugins;
let client: RpcClient;

/** Poll `probe` until it returns true; fails after `ms` (generous: the machine is shared). */
async function until(what: string, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function json(url: string, body?: unknown, method = body === undefined ? "GET" : "POST"): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const registered = async (name: string): Promise<boolean> => (await plugins.registry.getService(name)).length > 0;

before(async () => {
  ({ env, remove: removeEnv } = testEnv());
  app = new Fixture(spawn("/usr/bin/python3", [APP], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] }));
  const appAddress = String((await app.waitFor((e) => e.event === "ready")).address);
  appUrl = `http://${appAddress}`;
  ({ proc: greeter } = await startFixture("greeter-service", { ...env, SUBSCRIBE: "py.events" }));
  sidecar = spawnNode(
    [
      MICRO_BIN, "sidecar", "--address", "127.0.0.1:0",
      "--app_name", "pyapp", "--app_address", appAddress, "--app_health", `${appUrl}/health`, "--health_interval", INTERVAL,
      "--app_endpoints", "Greeter.Hello,Greeter.Garbage,Greeter.Slow", "--app_subscribe", "orders=/events/orders", "--app_timeout", "1500ms",
    ],
    env,
  );
  sidecarAddress = String((await sidecar.waitFor((e) => e.event === "listening")).address);
  sidecarUrl = `http://${sidecarAddress}`;
  assert.equal((await json(`${appUrl}/control/sidecar`, { url: sidecarUrl })).status, 200);
  plugins = await resolvePlugins(readConfig([], env));
  client = newClient({ deps: { selector: plugins.selector, transport: plugins.transport, broker: plugins.broker } });
  await until("pyapp is registered", () => registered("pyapp"));
});

after(async () => {
  client?.close();
  await plugins?.broker.disconnect().catch(() => undefined); // the test is ending; a failed disconnect changes nothing
  await plugins?.selector.close();
  await plugins?.registry.close();
  await Promise.all([stop(sidecar), stop(greeter), stop(app)]);
  removeEnv?.();
});

test("a micro-ts client calls the Python app by service name through the sidecar", async () => {
  const target = { service: "pyapp", endpoint: "Greeter.Hello", method: Greeter.methods.hello };
  const rsp = await client.call(target, { name: "John" }, { contentType: "application/json" });
  assert.deepEqual(rsp, { message: "Hello John from Python" });
  const [record] = await plugins.registry.getService("pyapp");
  assert.deepEqual(record!.endpoints.map((e) => e.name).sort(), ["Greeter.Garbage", "Greeter.Hello", "Greeter.Slow"]);
  assert.equal(record!.nodes[0]!.metadata.server, "micro-sidecar");
  // The app's own error comes back as its {id, code, detail, status}.
  await assert.rejects(client.call(target, { name: "" }, { contentType: "application/json" }), (e: any) => e.code === 400 && e.id === "pyapp" && e.detail === "name is required");
  // Protobuf cannot be forwarded to a JSON app: a clear 415, not a crash.
  await assert.rejects(client.call(target, { name: "x" }), (e: any) => e.code === 415 && /application\/json/.test(e.detail));
});

test("the Python app calls a micro-ts service through POST /rpc", async () => {
  const r = await json(`${appUrl}/control/call`, { service: "greeter", endpoint: "Greeter.Hello", request: { name: "Py" } });
  assert.deepEqual(r.body, { status: 200, reply: { message: "Hello Py" } });
});

test("the Python app publishes and a micro-ts subscriber gets the message", async () => {
  const r = await json(`${appUrl}/control/publish`, { topic: "py.events", message: { n: 7 } });
  assert.deepEqual(r.body, { status: 200, reply: { published: "py.events" } });
  const e = await greeter.waitFor((ev) => ev.event === "message" && ev.topic === "py.events");
  assert.deepEqual(e.message, { n: 7 });
});

test("--app_subscribe: a message a micro-ts client publishes is POSTed to the Python app", async () => {
  await until("the app's subscription is registered", () => registered("micro.broker.orders"));
  await client.publish("orders", { order: 42 }, { metadata: { "x-shop": "s1" } });
  let received: any[] = [];
  await until("the app received the order", async () => {
    received = (await json(`${appUrl}/control/received`)).body;
    return received.length > 0;
  });
  assert.deepEqual(received[0], { path: "/events/orders", message: { order: 42 }, topic: "orders" });
  // The app refusing a message is the subscriber's failure: the direct broker reports it to the publisher.
  await assert.rejects(client.publish("orders", { reject: "out of stock" }), (e: any) => e.code === 422 && e.id === "pyapp" && /out of stock/.test(e.detail));
});

test("GET /broker/<topic> as a WebSocket gets each message with its metadata", async () => {
  const ws = new WebSocket(`ws://${sidecarAddress}/broker/ws.news?queue=readers`);
  const frames: any[] = [];
  let notify: () => void = () => {};
  ws.on("message", (d) => (frames.push(JSON.parse(d.toString())), notify()));
  const next = (n: number): Promise<void> => (frames.length >= n ? Promise.resolve() : new Promise((r) => (notify = () => frames.length >= n && r())));
  await next(1);
  assert.deepEqual(frames[0], { subscribed: "ws.news", queue: "readers" });
  await client.publish("ws.news", { headline: "hi" }, { metadata: { "x-a": "1" } });
  await next(2);
  assert.equal(frames[1].topic, "ws.news");
  assert.deepEqual(frames[1].message, { headline: "hi" });
  assert.equal(frames[1].metadata["x-a"], "1");
  ws.close();
  await new Promise((r) => ws.once("close", r));
});

test("bad input gets the gateway's error shape and codes", async () => {
  const shape = (b: any, code: number): void => {
    assert.equal(b.code, code, JSON.stringify(b));
    assert.equal(typeof b.id, "string");
    assert.equal(typeof b.detail, "string");
    assert.equal(typeof b.status, "string");
  };
  let r = await json(`${sidecarUrl}/rpc`, { service: "nope", endpoint: "Nope.Call", request: {} });
  assert.equal(r.status, 404);
  shape(r.body, 404);
  r = await json(`${sidecarUrl}/rpc`, "{bad json");
  assert.equal(r.status, 400);
  shape(r.body, 400);
  r = await json(`${sidecarUrl}/rpc`, { service: "pyapp", endpoint: "Greeter.Hello", request: [1] });
  assert.equal(r.status, 400);
  assert.match(r.body.detail, /request must be a JSON object/);
  r = await json(`${sidecarUrl}/rpc`, { service: "pyapp", endpoint: "Greeter.Garbage", request: {} });
  assert.equal(r.status, 502);
  assert.match(r.body.detail, /not JSON/);
  r = await json(`${sidecarUrl}/rpc`, { service: "pyapp", endpoint: "Greeter.Slow", request: { seconds: 10 } });
  assert.equal(r.status, 504);
  assert.match(r.body.detail, /did not answer Greeter\.Slow/);
  r = await json(`${sidecarUrl}/registry/nope`);
  assert.equal(r.status, 404);
  shape(r.body, 404);
  r = await json(`${sidecarUrl}/registry`, { name: "x y" });
  assert.equal(r.status, 400);
  r = await json(`${sidecarUrl}/broker/bad topic!`, { a: 1 });
  assert.equal(r.status, 400);
  r = await json(`${sidecarUrl}/broker/t1`);
  assert.equal(r.status, 426);
  // The sidecar still serves after all of that.
  assert.deepEqual((await json(`${sidecarUrl}/health`)).body, { status: "ok", app: { name: "pyapp", healthy: true } });
});

test("POST /registry and DELETE /registry serve and withdraw a service of the app", async () => {
  const r = await json(`${sidecarUrl}/registry`, { name: "pyextra", version: "2", endpoints: ["Greeter.Hello"] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await until("pyextra is registered", () => registered("pyextra"));
  const rsp = await client.call({ service: "pyextra", endpoint: "Greeter.Hello", method: Greeter.methods.hello }, { name: "Ann" }, { contentType: "application/json" });
  assert.deepEqual(rsp, { message: "Hello Ann from Python" });
  assert.equal((await json(`${sidecarUrl}/registry`, { name: "pyextra" }, "DELETE")).status, 200);
  assert.equal(await registered("pyextra"), false);
  assert.equal((await json(`${sidecarUrl}/registry`, { name: "pyextra" }, "DELETE")).status, 404);
});

test("micro list/get/call/stream/publish/health --proxy_address work with only the sidecar reachable", async () => {
  const empty = mkdtempSync(join(tmpdir(), "micro-sidecar-empty-"));
  try {
    const cliEnv = { MICRO_REGISTRY: "local", MICRO_REGISTRY_ADDRESS: empty, MICRO_LOG_LEVEL: "silent" };
    const list = await micro(["list", "services", "--proxy_address", sidecarAddress], cliEnv);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split("\n"), ["greeter", "pyapp"]);
    const call = await micro(["call", "greeter", "Greeter.Hello", '{"name":"Proxy"}', "--proxy_address", sidecarAddress, "--metadata", "x-user=ann"], cliEnv);
    assert.equal(call.code, 0, call.stderr);
    assert.deepEqual(JSON.parse(call.stdout), { message: "Hello Proxy (ann)" });
    const py = await micro(["call", "pyapp", "Greeter.Hello", '{"name":"Cli"}'], { ...cliEnv, MICRO_PROXY_ADDRESS: sidecarAddress });
    // The app saw the service name it was called as (the sidecar's Micro-Service header).
    assert.deepEqual(JSON.parse(py.stdout), { message: "Hello Cli from Python", caller: "pyapp" });
    const get = await micro(["get", "service", "pyapp", "--proxy_address", sidecarAddress], cliEnv);
    assert.match(get.stdout, /Endpoint: Greeter\.Hello/);
    const stream = await micro(["stream", "greeter", "Greeter.Stream", '{"name":"s","count":2}', "--proxy_address", sidecarAddress], cliEnv);
    assert.equal(stream.code, 0, stream.stderr);
    assert.deepEqual(stream.stdout.trim().split("\n").map((l) => JSON.parse(l)), [{ message: "s 0" }, { message: "s 1" }]);
    const chat = await micro(["stream", "greeter", "Greeter.Chat", "--proxy_address", sidecarAddress], cliEnv, '{"name":"a"}\n{"name":"b"}\n');
    assert.deepEqual(chat.stdout.trim().split("\n").map((l) => JSON.parse(l)), [{ message: "echo a" }, { message: "echo b" }]);
    const pub = await micro(["publish", "py.events", '{"via":"proxy"}', "--proxy_address", sidecarAddress], cliEnv);
    assert.equal(pub.code, 0, pub.stderr);
    await greeter.waitFor((e) => e.event === "message" && (e.message as any)?.via === "proxy");
    const health = await micro(["health", "greeter", "--proxy_address", sidecarAddress], cliEnv);
    assert.equal(health.code, 0, health.stderr);
    assert.match(health.stdout, /\tok$/m);
    const missing = await micro(["call", "nope", "Nope.Call", "--proxy_address", sidecarAddress], cliEnv);
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stderr.replace(/^micro: /, "")).code, 404);
    const down = await micro(["list", "services", "--proxy_address", "127.0.0.1:1"], cliEnv);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the sidecar at http:\/\/127\.0\.0\.1:1/);
    const bad = await micro(["list", "services", "--proxy_address", "nonsense"], cliEnv);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid --proxy_address "nonsense": use host:port/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("a failing health URL removes the app from the registry; recovery brings it back", async () => {
  await json(`${appUrl}/control/health`, { ok: false });
  await until("pyapp is deregistered", async () => !(await registered("pyapp")));
  assert.equal((await json(`${sidecarUrl}/health`)).body.app.healthy, false);
  await json(`${appUrl}/control/health`, { ok: true });
  await until("pyapp is registered again", () => registered("pyapp"));
  // The client's selector learns of the node through its registry watch: call until it has.
  let rsp: unknown;
  await until("a call reaches the app again", async () => {
    rsp = await client.call({ service: "pyapp", endpoint: "Greeter.Hello", method: Greeter.methods.hello }, { name: "Back" }, { contentType: "application/json" }).catch(() => undefined);
    return rsp !== undefined;
  });
  assert.deepEqual(rsp, { message: "Hello Back from Python" });
});

test("SIGTERM deregisters the app before the sidecar exits", async () => {
  assert.equal(await registered("pyapp"), true);
  sidecar.kill("SIGTERM");
  const { code } = await sidecar.exited;
  assert.equal(code, 0, sidecar.stderr.slice(-2000));
  assert.equal(await registered("pyapp"), false);
  assert.equal(await registered("micro.broker.orders"), false);
});
