/**
 * The sidecar as a library, in this process over the memory registry and broker: an app that is down, and
 * requests the HTTP API refuses, each answered in the gateway's error shape while the sidecar keeps serving.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import WebSocket from "ws";
import { newClient, readConfig, resolvePlugins, type Plugins, type RpcClient } from "../../src/index.js";
import { jsonTarget } from "../../src/api/index.js";
import { setLogLevel } from "../../src/runtime/logger/index.js";
import { appPath, newSidecar, parseAppSubscription, parseDeclaration, type Sidecar } from "../../src/sidecar/index.js";

let plugins: Plugins;
let client: RpcClient;
let sidecar: Sidecar;

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

before(async () => {
  setLogLevel("silent");
  plugins = await resolvePlugins(readConfig([], { MICRO_REGISTRY: "memory", MICRO_BROKER: "memory" }));
  client = newClient({ deps: { selector: plugins.selector, transport: plugins.transport, broker: plugins.broker } });
  sidecar = newSidecar({
    client,
    registry: plugins.registry,
    transport: plugins.transport,
    broker: plugins.broker,
    address: "127.0.0.1:0",
    appName: "downapp",
    appAddress: `127.0.0.1:${await closedPort()}`,
    appEndpoints: ["Greeter.Hello"],
  });
  await sidecar.start();
});

after(async () => {
  await sidecar.stop();
  client.close();
  await plugins.selector.close();
  await plugins.registry.close();
});

async function post(path: string, body: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sidecar.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });
  return { status: res.status, body: await res.json() };
}

test("the endpoint path rule: dots become slashes, case kept", () => {
  assert.equal(appPath("Greeter.Hello"), "/Greeter/Hello");
  assert.equal(appPath("pkg.Greeter.Hello"), "/pkg/Greeter/Hello");
});

test("an app that is down: a 502 naming the app, from the client and from POST /rpc", async () => {
  const r = await post("/rpc", JSON.stringify({ service: "downapp", endpoint: "Greeter.Hello", request: { name: "x" } }));
  assert.equal(r.status, 502);
  assert.equal(r.body.id, "downapp");
  assert.match(r.body.detail, /cannot reach the app for Greeter\.Hello .*ECONNREFUSED/);
  const target = { service: "downapp", endpoint: "Greeter.Hello", method: jsonTarget("downapp", "Greeter.Hello").method };
  await assert.rejects(client.call(target, { name: "x" }, { contentType: "application/json" }), (e: any) => e.code === 502 && e.id === "downapp");
  assert.equal((await plugins.registry.getService("downapp")).length, 1, "without --app_health the app stays registered");
});

test("declarations are checked: what is wrong is named", () => {
  const detail = (re: RegExp) => (e: any) => e.code === 400 && re.test(e.detail);
  assert.throws(() => parseDeclaration({ name: "a", endpoints: ["hello"] }), detail(/endpoints\[0\] must be an endpoint name like "Greeter.Hello"/));
  assert.throws(() => parseDeclaration({ name: "a", nodes: [] }), detail(/"nodes" cannot be given/));
  assert.throws(() => parseDeclaration([]), detail(/must be a JSON object/));
  assert.deepEqual(parseDeclaration({ name: "a", endpoints: ["A.B", { name: "A.C", metadata: { k: "v" } }] }).endpoints, [{ name: "A.B" }, { name: "A.C", metadata: { k: "v" } }]);
  assert.throws(() => parseAppSubscription("orders"), detail(/use topic=\/path/));
  assert.deepEqual(parseAppSubscription("orders=/events/orders"), { topic: "orders", path: "/events/orders" });
});

test("bad requests to the HTTP API get {id, code, detail, status}", async () => {
  for (const [path, body, code, detail] of [
    ["/rpc", "", 400, /needs a JSON body/],
    ["/rpc", "[1]", 400, /must be a JSON object/],
    ["/rpc", '{"service":"a b","endpoint":"A.B"}', 400, /"service" must be a service name/],
    ["/rpc", '{"service":"a","endpoint":"nodot"}', 400, /"endpoint" must be an endpoint name/],
    ["/rpc", '{"service":"a","endpoint":"A.B","metadata":{"k":1}}', 400, /"metadata" must map strings to strings/],
    ["/rpc", '{"service":"a","endpoint":"A.B","timeout":"soon"}', 400, /timeout/],
    ["/registry", '{"name":"x","endpoints":"A.B"}', 400, /"endpoints" must be an array/],
    ["/broker/t", "{oops", 400, /malformed JSON body/],
  ] as const) {
    const r = await post(path, body);
    assert.equal(r.status, code, `${path} ${body}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.detail, detail);
    assert.deepEqual(Object.keys(r.body).sort(), ["code", "detail", "id", "status"]);
  }
});

test("WebSocket upgrades that cannot be served are refused with the error body", async () => {
  for (const [path, code] of [
    ["/stream?service=a", 400],
    ["/stream?service=nope&endpoint=Nope.Call", 404],
    ["/broker/bad%20topic", 400],
  ] as const) {
    const ws = new WebSocket(`ws://${sidecar.address}${path}`);
    const status = await new Promise<number>((resolve, reject) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => reject(new Error(`${path} was upgraded`)));
      ws.once("error", () => undefined); // the rejected handshake is expected; its status is what we check
    });
    assert.equal(status, code, path);
  }
  const health = await fetch(`${sidecar.url}/health`);
  assert.deepEqual(await health.json(), { status: "ok", app: { name: "downapp", healthy: true } });
});
