/**
 * The gateway at its edges (issue 10): a request that is not a JSON object, query parameters and path
 * variables typed by the request's field descriptions, 405 for a known path with another verb, one error
 * shape for what the HTTP parser refuses, a unary WebSocket that an empty frame ends, and `/hello/call`
 * reaching a scaffolded project's `HelloService.Call`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { newGateway, type Gateway } from "../../src/api/index.js";
import { FakeClient, FakeRegistry } from "./fakes.js";
import { rawRequest } from "./raw.js";

const client = new FakeClient();
const registry = new FakeRegistry();
let gw: Gateway;
let base: string;

const LIST_FIELDS = [
  { name: "shelfId", type: "int64" },
  { name: "pageSize", type: "int32" },
  { name: "includeDeleted", type: "bool" },
  { name: "ids", type: "int64[]" },
  { name: "kind", type: "library.v1.Kind" },
  { name: "ratio", type: "float" },
  { name: "after", type: "google.protobuf.Timestamp" },
  { name: "maxAge", type: "google.protobuf.Duration" },
  { name: "limit", type: "google.protobuf.UInt32Value" },
  { name: "filter", type: "library.v1.Filter", values: [{ name: "author", type: "string" }, { name: "year", type: "uint32" }] },
  { name: "labels", type: "map<string, string>" },
];

before(async () => {
  client
    .on("library", "Library.ListBooks", ({ request }) => ({ got: request }))
    .on("library", "Library.Echo", ({ request }) => ({ got: request }))
    .on("library", "Library.CreateBook", ({ request }) => ({ got: request }))
    .on("hello", "HelloService.Call", ({ request }) => ({ msg: `Hello ${(request as { name?: string }).name ?? ""}` }));
  await registry.register({
    name: "library",
    version: "1",
    nodes: [{ id: "library-1", address: "127.0.0.1:1", metadata: {} }],
    endpoints: [
      {
        name: "Library.ListBooks",
        request: { name: "ListBooksRequest", type: "library.v1.ListBooksRequest", values: LIST_FIELDS },
        metadata: { http: JSON.stringify([{ method: "GET", path: "/v1/shelves/{shelf_id}/books" }]) },
      },
      { name: "Library.Echo", request: { name: "ListBooksRequest", type: "library.v1.ListBooksRequest", values: LIST_FIELDS }, metadata: {} },
      {
        name: "Library.CreateBook",
        request: { name: "CreateBookRequest", type: "library.v1.CreateBookRequest", values: [{ name: "title", type: "string" }] },
        metadata: { http: JSON.stringify([{ method: "POST", path: "/v1/books", body: "*" }]) },
      },
    ],
  });
  await registry.register({
    name: "hello",
    version: "latest",
    nodes: [{ id: "hello-1", address: "127.0.0.1:1", metadata: {} }],
    endpoints: [{ name: "HelloService.Call", request: { name: "CallRequest", type: "hello.v1.CallRequest", values: [{ name: "name", type: "string" }] }, metadata: {} }],
  });
  gw = newGateway({ client, registry, address: "127.0.0.1:0", timeout: 2000 });
  await gw.start();
  base = gw.url;
});

after(async () => {
  await gw.stop();
});

async function errorBody(r: Response): Promise<{ id: string; code: number; detail: string; status: string }> {
  const e = (await r.json()) as { id: string; code: number; detail: string; status: string };
  assert.deepEqual(Object.keys(e).sort(), ["code", "detail", "id", "status"]);
  assert.equal(e.code, r.status);
  return e;
}

const post = (path: string, body: string, type = "application/json") => fetch(base + path, { method: "POST", body, headers: { "content-type": type } });

describe("a request that is not a JSON object", () => {
  test("is a 400 saying `request must be a JSON object` and what was given, on every JSON edge", async () => {
    for (const [body, given] of [
      ["[1,2]", "an array [1,2]"],
      ['"John"', 'a string "John"'],
      ["42", "a number 42"],
      ["null", "null"],
    ] as const) {
      for (const r of [
        await post("/library/echo", body),
        await post("/v1/books", body),
        // In /rpc, `"request": null` is proto3 JSON's "not set" (an empty request), so null is left out there.
        ...(body === "null" ? [] : [await post("/rpc", `{"service":"library","endpoint":"Library.Echo","request":${body}}`)]),
      ]) {
        assert.equal(r.status, 400, body);
        assert.equal((await errorBody(r)).detail, `request must be a JSON object, got ${given}`);
      }
    }
  });

  test("a WebSocket frame that is not an object gets the same error and close 4400", async () => {
    const { messages, code } = await wsExchange(`${base.replace("http", "ws")}/library/echo`, ["[1,2]"]);
    assert.equal(code, 4400);
    assert.equal((messages[0] as { error: { detail: string } }).error.detail, "request must be a JSON object, got an array [1,2]");
  });
});

describe("query parameters and path variables are typed by the request's fields", () => {
  const list = (q: string) => fetch(`${base}/v1/shelves/7/books${q}`);

  test("values of the right type arrive as their proto3 JSON form; int64 keeps every digit", async () => {
    const r = await list(
      "?page_size=20&includeDeleted=false&ids=1&ids=12345678901234567&kind=KIND_NOVEL&ratio=0.5&after=2024-01-02T15:04:05Z&max_age=1.5s&limit=3&filter.author=Le%20Guin&filter.year=1969",
    );
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), {
      got: {
        shelfId: "7",
        pageSize: 20,
        includeDeleted: false,
        ids: ["1", "12345678901234567"],
        kind: "KIND_NOVEL",
        ratio: 0.5,
        after: "2024-01-02T15:04:05Z",
        maxAge: "1.5s",
        limit: 3,
        filter: { author: "Le Guin", year: 1969 },
      },
    });
    assert.deepEqual(await (await list("?kind=2&shelf_id=1")).json(), { got: { shelfId: "7", kind: 2 } });
    const big = await fetch(`${base}/v1/shelves/9223372036854775807/books`);
    assert.deepEqual(await big.json(), { got: { shelfId: "9223372036854775807" } });
  });

  test("a value that does not fit its field is a 400 naming the parameter and the expected type", async () => {
    for (const [q, detail] of [
      ["?include_deleted=maybe", /^query parameter "include_deleted": expected bool \(true or false\), got "maybe"$/],
      ["?page_size=abc", /^query parameter "page_size": expected int32, got "abc"$/],
      ["?page_size=1.5", /^query parameter "page_size": expected int32, got "1\.5"$/],
      ["?page_size=4294967296", /^query parameter "page_size": expected int32/],
      ["?ids=1&ids=x", /^query parameter "ids": expected int64, got "x"$/],
      ["?filter.year=-1", /^query parameter "filter\.year": expected uint32, got "-1"$/],
      ["?after=yesterday", /^query parameter "after": expected google\.protobuf\.Timestamp/],
      ["?max_age=90", /^query parameter "max_age": expected google\.protobuf\.Duration/],
      ["?kind=not-a-name", /^query parameter "kind": expected library\.v1\.Kind/],
      ["?page_size=1&page_size=2", /^query parameter "page_size": given 2 times, but the field is not repeated$/],
      ["?pageSise=1", /^query parameter "pageSise": the request has no field "pageSise"$/],
      ["?filter=x", /^query parameter "filter": library\.v1\.Filter is a message: give its fields, e.g\. filter\.author$/],
      ["?labels=x", /^query parameter "labels": map<string, string> is a map field/],
    ] as const) {
      const r = await list(q);
      assert.equal(r.status, 400, q);
      assert.match((await errorBody(r)).detail, detail, q);
    }
    const path = await fetch(`${base}/v1/shelves/abc/books`);
    assert.equal(path.status, 400);
    assert.match((await errorBody(path)).detail, /^path variable "shelf_id": expected int64, got "abc"$/);
    const noRule = await fetch(`${base}/library/echo?page_size=abc`);
    assert.equal(noRule.status, 400);
    assert.match((await errorBody(noRule)).detail, /^query parameter "page_size": expected int32/);
    const form = await post("/library/echo", "include_deleted=maybe", "application/x-www-form-urlencoded");
    assert.equal(form.status, 400);
    assert.match((await errorBody(form)).detail, /^form field "include_deleted": expected bool/);
  });
});

describe("routes and error shape", () => {
  test("a known path with the wrong verb is a 405 with Allow", async () => {
    const r = await fetch(`${base}/v1/shelves/7/books`, { method: "DELETE" });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get("allow"), "GET, HEAD");
    assert.match((await errorBody(r)).detail, /DELETE is not allowed on \/v1\/shelves\/7\/books: use GET, HEAD/);
    const p = await fetch(`${base}/v1/books`, { method: "PUT", body: "{}" });
    assert.equal(p.status, 405);
    assert.equal(p.headers.get("allow"), "POST");
  });

  test("what the HTTP parser refuses (garbage, bad content length, malformed header) is answered as {id, code, detail, status}", async () => {
    const address = new URL(base).host;
    for (const text of [
      "GARBAGE\r\n\r\n",
      "POST /library/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "GET /library/echo HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    ]) {
      const raw = await rawRequest(address, text);
      assert.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/, JSON.stringify(text));
      const body = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));
      assert.deepEqual(Object.keys(body).sort(), ["code", "detail", "id", "status"]);
      assert.equal(body.code, 400);
      assert.equal(body.id, "micro.api");
    }
    assert.equal((await fetch(`${base}/library/echo`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status, 200);
  });

  test("/hello/call and /hello reach HelloService.Call when the service has no Hello.Call (buf naming, as micro new scaffolds)", async () => {
    const r = await post("/hello/call", '{"name":"John"}', "application/x-www-form-urlencoded");
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { msg: "Hello John" });
    assert.deepEqual(await (await post("/hello", '{"name":"Ann"}')).json(), { msg: "Hello Ann" });
  });
});

describe("WebSocket to a unary endpoint", () => {
  test("each frame is a call; an empty frame ends the requests and the socket closes 1000 after the last reply", async () => {
    const { messages, code } = await wsExchange(`${base.replace("http", "ws")}/library/echo`, ['{"pageSize":1}', '{"pageSize":2}', ""]);
    assert.equal(code, 1000);
    assert.deepEqual(
      (messages as { got: { pageSize: number } }[]).map((m) => m.got.pageSize).sort(),
      [1, 2],
    );
  });
});

function wsExchange(url: string, send: string[]): Promise<{ messages: unknown[]; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: unknown[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`socket still open after 3 s; got ${JSON.stringify(messages)}`));
    }, 3000);
    ws.on("open", () => send.forEach((m) => ws.send(m)));
    ws.on("message", (d) => messages.push(JSON.parse(d.toString())));
    ws.on("close", (code) => {
      clearTimeout(timer);
      resolve({ messages, code });
    });
    ws.on("error", reject);
  });
}

