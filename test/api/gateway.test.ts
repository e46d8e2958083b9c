/**
 * The gateway over real HTTP on loopback, with fake services behind it (the runtime client and registry
 * are in-test fakes here; test/api/e2e.test.ts runs real service processes).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket } from "ws";
import { newGateway, type Gateway } from "../../src/api/index.js";
import { MicroError } from "../../src/runtime/errors/index.js";
import { FakeClient, FakeRegistry } from "./fakes.js";
import { rawRequest } from "./raw.js";

async function* count(n: number, name: string): AsyncGenerator<unknown> {
  for (let i = 0; i < n; i++) yield { message: `${name} ${i}` };
}


function wsMessages(url: string, send: string[]): Promise<{ messages: unknown[]; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: unknown[] = [];
    ws.on("open", () => send.forEach((m) => ws.send(m)));
    ws.on("message", (d) => messages.push(JSON.parse(d.toString())));
    ws.on("close", (code) => resolve({ messages, code }));
    ws.on("error", reject);
  });
}

const client = new FakeClient();
let cancelEndless!: () => void;
const endlessCancelled = { promise: new Promise<void>((r) => (cancelEndless = r)), resolve: () => cancelEndless() };
const registry = new FakeRegistry();
let gw: Gateway;
let base: string;

before(async () => {
  client
    .on("greeter", "Greeter.Hello", ({ request, metadata }) => ({ message: `Hello ${(request as { name?: string }).name ?? ""}`, user: metadata["x-user"] }))
    .on("greeter", "Say.Hello", ({ request }) => ({ say: request }))
    .on("v1.greeter", "Greeter.Hello", () => ({ v: 1 }))
    .on("greeter", "Greeter.Forbidden", () => {
      throw MicroError.forbidden("greeter", "not you");
    })
    .on("greeter", "Greeter.Crash", () => {
      throw new Error("secret internals at /srv/app.js:12");
    })
    .on("greeter", "Greeter.Slow", ({ signal }) => new Promise((r) => signal?.addEventListener("abort", r)))
    .on("greeter", "Greeter.Bytes", ({ request, contentType }) => {
      assert.equal(contentType, "application/protobuf");
      return Uint8Array.from([...(request as Uint8Array)].reverse());
    })
    .on("greeter", "Greeter.Stream", ({ request }) => count((request as { count?: number }).count ?? 3, "tick"))
    .on("greeter", "Greeter.Upload", async ({ request }) => {
      const names: string[] = [];
      for await (const r of request as AsyncIterable<{ name: string }>) names.push(r.name);
      return { message: names.join(",") };
    })
    .on("greeter", "Greeter.Chat", ({ request }) =>
      (async function* () {
        for await (const r of request as AsyncIterable<{ name: string }>) yield { message: `hi ${r.name}` };
      })(),
    )
    .on("greeter", "Greeter.StreamFail", () =>
      (async function* () {
        yield { message: "one" };
        throw MicroError.conflict("greeter", "stream broke");
      })(),
    )
    .on("greeter", "Greeter.Long", () =>
      (async function* () {
        // Outlives the gateway's 300 ms call timeout: streams are bounded by the client's connection instead.
        await new Promise((r) => setTimeout(r, 400));
        yield { message: "late" };
      })(),
    )
    .on("greeter", "Greeter.Endless", ({ signal }) =>
      (async function* () {
        signal?.addEventListener("abort", () => endlessCancelled.resolve(), { once: true });
        for (let i = 0; !signal?.aborted; i++) {
          yield { message: `${i}` };
          await new Promise((r) => setImmediate(r));
        }
      })(),
    )
    .on("users", "Users.Get", ({ request }) => ({ user: { id: (request as { userId: string }).userId, q: request } }))
    .on("users", "Users.Update", ({ request }) => ({ updated: request }));
  await registry.register({
    name: "greeter",
    version: "latest",
    nodes: [{ id: "greeter-1", address: "127.0.0.1:1", metadata: {} }],
    endpoints: [
      { name: "Greeter.Hello", metadata: {} },
      { name: "Greeter.Stream", metadata: { stream: "server_streaming" }, request: { name: "req", type: "R", values: [{ name: "count", type: "int32" }] } },
      { name: "Greeter.StreamFail", metadata: { stream: "server_streaming" } },
      { name: "Greeter.Long", metadata: { stream: "server_streaming" } },
      { name: "Greeter.Endless", metadata: { stream: "server_streaming" } },
      { name: "Greeter.Upload", metadata: { stream: "client_streaming" } },
      { name: "Greeter.Chat", metadata: { stream: "bidi_streaming" } },
    ],
  });
  await registry.register({
    name: "users",
    version: "1",
    nodes: [{ id: "users-1", address: "127.0.0.1:1", metadata: {} }],
    endpoints: [
      {
        name: "Users.Get",
        request: { name: "GetRequest", type: "GetRequest", values: [{ name: "user_id", type: "string" }, { name: "verbose", type: "bool" }, { name: "fooBar", type: "int32" }] },
        metadata: { http: JSON.stringify([{ method: "GET", path: "/v1/users/{user_id}", responseBody: "user" }, { method: "GET", path: "/v1/people/{user_id}" }]) },
      },
      { name: "Users.Update", metadata: { http: JSON.stringify([{ method: "PATCH", path: "/v1/{name=users/*}", body: "user" }]) } },
    ],
  });
  gw = newGateway({ client, registry, address: "127.0.0.1:0", timeout: 300, maxBody: 64 * 1024, cors: ["https://app.example"] });
  await gw.start();
  base = gw.url;
});

after(async () => {
  await gw.stop();
});

const post = (path: string, body: string, type = "application/json", headers: Record<string, string> = {}) =>
  fetch(base + path, { method: "POST", body, headers: { "content-type": type, ...headers } });

describe("rpc handler", () => {
  test("JSON body → RPC → JSON reply, headers forwarded as metadata", async () => {
    const r = await post("/greeter/hello", '{"name":"John"}', "application/json", { "x-user": "ann" });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await r.json(), { message: "Hello John", user: "ann" });
  });

  test("curl -d style (form content type carrying JSON) and form fields", async () => {
    assert.deepEqual(await (await post("/greeter/hello", '{"name":"Curl"}', "application/x-www-form-urlencoded")).json(), { message: "Hello Curl" });
    assert.deepEqual(await (await post("/greeter/hello", "name=Form", "application/x-www-form-urlencoded")).json(), { message: "Hello Form" });
  });

  test("GET takes the request from the query", async () => {
    assert.deepEqual(await (await fetch(`${base}/greeter/hello?name=Query`)).json(), { message: "Hello Query" });
  });

  test("/service/a/b and versioned paths", async () => {
    assert.deepEqual(await (await post("/greeter/say/hello", '{"x":1}')).json(), { say: { x: 1 } });
    assert.deepEqual(await (await post("/v1/greeter/hello", "{}")).json(), { v: 1 });
  });

  test("POST /rpc with JSON and with form fields", async () => {
    const r = await post("/rpc", JSON.stringify({ service: "greeter", endpoint: "Greeter.Hello", request: { name: "Rpc" } }));
    assert.deepEqual(await r.json(), { message: "Hello Rpc" });
    const f = await post("/rpc", new URLSearchParams({ service: "greeter", endpoint: "Greeter.Hello", request: '{"name":"Form"}' }).toString(), "application/x-www-form-urlencoded");
    assert.deepEqual(await f.json(), { message: "Hello Form" });
    const bad = await post("/rpc", JSON.stringify({ service: "greeter" }));
    assert.equal(bad.status, 400);
    assert.match((await json(bad)).detail, /endpoint/);
  });

  test("protobuf bodies pass through as bytes", async () => {
    const r = await fetch(`${base}/greeter/bytes`, { method: "POST", body: Buffer.from([1, 2, 3]), headers: { "content-type": "application/protobuf" } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/protobuf");
    assert.deepEqual([...new Uint8Array(await r.arrayBuffer())], [3, 2, 1]);
  });
});

describe("http rule routes", () => {
  test("path variables, typed query parameters and response_body", async () => {
    const r = await fetch(`${base}/v1/users/42?verbose=true`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { id: "42", q: { userId: "42", verbose: true } });
  });

  test("a query parameter named as protoc names JSON fields: foo__bar is the field fooBar", async () => {
    const r = await fetch(`${base}/v1/users/42?foo__bar=3`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { id: "42", q: { userId: "42", fooBar: 3 } });
  });

  test("additional bindings route too, without response_body", async () => {
    assert.deepEqual(await (await fetch(`${base}/v1/people/7`)).json(), { user: { id: "7", q: { userId: "7" } } });
  });

  test("{name=users/*} with a body field", async () => {
    const r = await fetch(`${base}/v1/users/9`, { method: "PATCH", body: '{"email":"a@b"}', headers: { "content-type": "application/json" } });
    assert.deepEqual(await r.json(), { updated: { user: { email: "a@b" }, name: "users/9" } });
  });

  test("routes follow the registry", async () => {
    client.on("late", "Late.Get", () => ({ late: true }));
    const added = gw.nextRoutesUpdate();
    await registry.register({
      name: "late",
      version: "1",
      nodes: [],
      endpoints: [{ name: "Late.Get", metadata: { http: JSON.stringify([{ method: "GET", path: "/late/thing" }]) } }],
    });
    await added;
    while (!gw.routes().some((r) => r.service === "late")) await gw.nextRoutesUpdate();
    assert.deepEqual(await (await fetch(`${base}/late/thing`)).json(), { late: true });
    const removed = gw.nextRoutesUpdate();
    await registry.deregister({ name: "late", version: "1", nodes: [], endpoints: [] });
    await removed;
    while (gw.routes().some((r) => r.service === "late")) await gw.nextRoutesUpdate();
    assert.equal((await fetch(`${base}/late/thing`)).status, 404);
  });
});

describe("streams", () => {
  test("server stream over SSE", async () => {
    const r = await fetch(`${base}/greeter/stream?count=2`, { headers: { accept: "text/event-stream" } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /text\/event-stream/);
    assert.equal(await r.text(), 'data: {"message":"tick 0"}\n\ndata: {"message":"tick 1"}\n\nevent: end\ndata: {}\n\n');
  });

  test("server stream as NDJSON, and an error mid-stream", async () => {
    assert.equal(await (await post("/greeter/stream", '{"count":2}')).text(), '{"message":"tick 0"}\n{"message":"tick 1"}\n');
    const text = await (await post("/greeter/stream_fail", "{}")).text();
    assert.equal(text, '{"message":"one"}\n{"error":{"id":"greeter","code":409,"detail":"stream broke","status":"Conflict"}}\n');
  });

  test("streams are not cut by the unary call timeout", async () => {
    assert.equal(await (await post("/greeter/long", "{}")).text(), '{"message":"late"}\n');
  });

  test("a client that goes away cancels the stream", async () => {
    const ac = new AbortController();
    const r = await fetch(`${base}/greeter/endless`, { headers: { accept: "text/event-stream" }, signal: ac.signal });
    const reader = r.body!.getReader();
    await reader.read();
    ac.abort();
    await endlessCancelled.promise;
  });

  test("server stream over WebSocket", async () => {
    const { messages, code } = await wsMessages(`${base.replace("http", "ws")}/greeter/stream`, ['{"count":3}']);
    assert.equal(code, 1000);
    assert.deepEqual(messages, [{ message: "tick 0" }, { message: "tick 1" }, { message: "tick 2" }]);
  });

  test("client stream and bidi stream over WebSocket (an empty frame ends the requests)", async () => {
    const up = await wsMessages(`${base.replace("http", "ws")}/greeter/upload`, ['{"name":"a"}', '{"name":"b"}', ""]);
    assert.deepEqual(up, { messages: [{ message: "a,b" }], code: 1000 });
    const chat = await wsMessages(`${base.replace("http", "ws")}/greeter/chat`, ['{"name":"a"}', '{"name":"b"}', ""]);
    assert.deepEqual(chat, { messages: [{ message: "hi a" }, { message: "hi b" }], code: 1000 });
  });

  test("unary calls over WebSocket: one reply per frame", async () => {
    const replies = await new Promise<unknown[]>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/greeter/hello`);
      const got: unknown[] = [];
      ws.on("open", () => {
        ws.send('{"name":"a"}');
        ws.send('{"name":"b"}');
      });
      ws.on("message", (d) => {
        got.push(JSON.parse(d.toString()));
        if (got.length === 2) ws.close(1000);
      });
      ws.on("close", () => resolve(got));
      ws.on("error", reject);
    });
    assert.deepEqual(
      replies.map((r) => (r as { message: string }).message).sort(),
      ["Hello a", "Hello b"],
    );
  });

  test("WebSocket errors: a JSON error frame and close code 4000+status", async () => {
    const r = await wsMessages(`${base.replace("http", "ws")}/greeter/stream`, ["{not json"]);
    assert.equal(r.code, 4400);
    assert.equal((r.messages[0] as { error: { code: number } }).error.code, 400);
    const rejected = (path: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${base.replace("http", "ws")}${path}`);
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => resolve(101));
        ws.on("error", () => resolve(-1));
      });
    assert.equal(await rejected("/greeter/..%2fhello"), 400);
    assert.equal(await rejected("/nosuch/stream"), 404);
  });

  test("a peer that breaks the WebSocket protocol (a frame over maxBody) gets its socket closed; the gateway keeps serving", async () => {
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/greeter/hello`);
      ws.on("open", () => ws.send("x".repeat(65 * 1024)));
      ws.on("close", (c) => resolve(c));
      ws.on("error", () => undefined);
    });
    assert.equal(code, 1009, "closed as message too big");
    const again = await wsMessages(`${base.replace("http", "ws")}/greeter/stream`, ['{"count":1}']);
    assert.deepEqual(again, { messages: [{ message: "tick 0" }], code: 1000 });
  });

  test("a client stream endpoint over plain HTTP says to use a WebSocket", async () => {
    const r = await post("/greeter/upload", "{}");
    assert.equal(r.status, 400);
    assert.match((await json(r)).detail, /WebSocket/);
  });
});

describe("errors", () => {
  test("a MicroError keeps its code and body", async () => {
    const r = await post("/greeter/forbidden", "{}");
    assert.equal(r.status, 403);
    assert.deepEqual(await r.json(), { id: "greeter", code: 403, detail: "not you", status: "Forbidden" });
  });

  test("unknown service 404, unknown path 404", async () => {
    const r = await post("/nosuch/thing", "{}");
    assert.equal(r.status, 404);
    assert.equal((await json(r)).code, 404);
    assert.equal((await fetch(`${base}/`)).status, 404);
  });

  test("malformed JSON 400, wrong content type 415, huge body 413", async () => {
    const bad = await post("/greeter/hello", '{"name":');
    assert.equal(bad.status, 400);
    assert.match((await json(bad)).detail, /malformed JSON/);
    const arr = await post("/greeter/hello", "[1,2]");
    assert.equal(arr.status, 400);
    const type = await post("/greeter/hello", "<x/>", "text/xml");
    assert.equal(type.status, 415);
    assert.equal((await json(type)).code, 415);
    const huge = await post("/greeter/hello", JSON.stringify({ name: "x".repeat(100 * 1024) }));
    assert.equal(huge.status, 413);
    assert.equal((await json(huge)).code, 413);
  });

  test("backend timeout 504", async () => {
    const r = await post("/greeter/slow", "{}");
    assert.equal(r.status, 504);
    assert.equal((await json(r)).code, 504);
  });

  test("a plain error is a 500 without its message or stack", async () => {
    const r = await post("/greeter/crash", "{}");
    assert.equal(r.status, 500);
    const text = await r.text();
    assert.doesNotMatch(text, /secret|\/srv|at /);
    assert.equal(JSON.parse(text).code, 500);
  });

  test("path traversal and encoded variants are 400 and never reach a service", async () => {
    const before = client.calls.length;
    for (const p of ["/../etc/passwd", "/%2e%2e/etc/passwd", "/greeter/%2e%2e%2f%2e%2e/etc/passwd", "/greeter/..%2fhello", "/greeter%00/hello", "/%252e%252e/etc"]) {
      const text = await rawRequest(gw.address, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const status = Number(text.split(" ")[1]);
      assert.equal(status, 400, `${p}: ${text.split("\r\n")[0]}`);
      assert.doesNotMatch(text, /root:/);
    }
    assert.equal(client.calls.length, before);
  });

  test("bad query parameter names 400, an overlong request line is refused, the gateway keeps serving", async () => {
    const bad = await fetch(`${base}/greeter/hello?na%20me=x`);
    assert.equal(bad.status, 400);
    assert.match((await json(bad)).detail, /query parameter/);
    const long = await rawRequest(gw.address, `GET /greeter/${"a".repeat(70_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(long.split("\r\n")[0]!, / 4\d\d /);
    assert.equal((await fetch(`${base}/greeter/hello?name=ok`)).status, 200);
  });

  test("CR/LF in a header value is rejected and nothing is injected", async () => {
    const text = await rawRequest(gw.address, "POST /greeter/hello HTTP/1.1\r\nHost: x\r\nX-User: a\rSet-Cookie: evil=1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    assert.match(text.split("\r\n")[0]!, / 400 /);
    assert.doesNotMatch(text, /set-cookie: evil/i);
  });

  test("CORS: preflight and allowed origin", async () => {
    const pre = await fetch(`${base}/greeter/hello`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://app.example");
    const other = await fetch(`${base}/greeter/hello?name=x`, { headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  });
});

describe("other handlers", () => {
  test("api handler: the whole request in, status/headers/body out; unsafe headers dropped", async () => {
    const c = new FakeClient().on("shop", "Cart.Add", ({ request }) => {
      const r = request as { method: string; path: string; get: Record<string, { values: string[] }>; header: Record<string, { values: string[] }>; body: string };
      return {
        statusCode: 201,
        header: { "x-echo": { key: "X-Echo", values: [`${r.method} ${r.path} ${r.get.q?.values[0]} ${r.header["x-a"]?.values[0]} ${r.body}`] }, bad: { key: "X-Bad", values: ["a\r\nSet-Cookie: evil=1"] } },
        body: "created",
      };
    });
    const g = newGateway({ client: c, registry: new FakeRegistry(), address: "127.0.0.1:0", handler: "api" });
    await g.start();
    try {
      const r = await fetch(`${g.url}/shop/cart/add?q=1`, { method: "POST", body: "hello", headers: { "content-type": "text/plain", "x-a": "b" } });
      assert.equal(r.status, 201);
      assert.equal(r.headers.get("x-echo"), "POST /shop/cart/add 1 b hello");
      assert.equal(r.headers.get("x-bad"), null);
      assert.equal(r.headers.get("set-cookie"), null);
      assert.equal(await r.text(), "created");
    } finally {
      await g.stop();
    }
  });

  test("event handler publishes /[topic]/[event] to [namespace.]topic", async () => {
    const c = new FakeClient();
    const g = newGateway({ client: c, registry: new FakeRegistry(), address: "127.0.0.1:0", handler: "event", namespace: "ns" });
    await g.start();
    try {
      const r = await post2(g.url, "/orders/created", '{"id":1}');
      assert.equal(r.status, 200);
      assert.equal(c.published.length, 1);
      const m = c.published[0]!.message as { name: string; data: string };
      assert.equal(c.published[0]!.topic, "ns.orders");
      assert.equal(m.name, "created");
      assert.equal(m.data, '{"id":1}');
      assert.equal((await post2(g.url, "/a/b/c", "{}")).status, 404);
    } finally {
      await g.stop();
    }
  });

  test("http handler proxies to nodes that serve HTTP", async () => {
    const backend: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        res.setHeader("x-backend", "yes");
        res.end(JSON.stringify({ method: req.method, url: req.url, body, fwd: req.headers["x-forwarded-for"] }));
      });
    });
    await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
    const reg = new FakeRegistry();
    await reg.register({ name: "web", version: "1", endpoints: [], nodes: [{ id: "web-1", address: `127.0.0.1:${(backend.address() as AddressInfo).port}`, metadata: { protocol: "http" } }] });
    await reg.register({ name: "rpconly", version: "1", endpoints: [], nodes: [{ id: "r-1", address: "127.0.0.1:1", metadata: { protocol: "mucp" } }] });
    const g = newGateway({ client: new FakeClient(), registry: reg, address: "127.0.0.1:0", handler: "http" });
    await g.start();
    try {
      const r = await post2(g.url, "/web/a/b?x=1", "payload");
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-backend"), "yes");
      assert.deepEqual(await r.json(), { method: "POST", url: "/web/a/b?x=1", body: "payload", fwd: "127.0.0.1" });
      assert.equal((await fetch(`${g.url}/rpconly/x`)).status, 404);
      assert.equal((await fetch(`${g.url}/nothing/x`)).status, 404);
    } finally {
      await g.stop();
      backend.close();
    }
  });
});

function post2(url: string, path: string, body: string): Promise<Response> {
  return fetch(url + path, { method: "POST", body, headers: { "content-type": "application/json" } });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function json(r: Response): Promise<any> {
  return r.json();
}

describe("registry failures", () => {
  test("a registry whose lookup fails is a 503 in the gateway's error shape, not a unary call with untyped values", async () => {
    class FailingRegistry extends FakeRegistry {
      override async getService(): Promise<never> {
        throw new Error("registry unreachable");
      }
    }
    const failing = new FailingRegistry();
    const calls: string[] = [];
    const fakeClient = new FakeClient().on("greeter", "Greeter.Hello", () => {
      calls.push("Greeter.Hello");
      return {};
    });
    const g = newGateway({ client: fakeClient, registry: failing, address: "127.0.0.1:0", timeout: 300 });
    await g.start();
    try {
      const r = await fetch(`${g.url}/greeter/hello`, { method: "POST", body: '{"name":"x"}', headers: { "content-type": "application/json" } });
      assert.equal(r.status, 503);
      const body = (await r.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ["code", "detail", "id", "status"]);
      assert.equal(body.id, "micro.api");
      assert.equal(body.code, 503);
      assert.equal(body.status, "Service Unavailable");
      assert.match(String(body.detail), /registry lookup of service "greeter" failed: registry unreachable/);
      assert.deepEqual(calls, []);
    } finally {
      await g.stop();
    }
  });
});
