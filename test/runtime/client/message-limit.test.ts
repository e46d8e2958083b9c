/**
 * A message over the peer's limit is an error that reaches the caller (413 naming both sizes and what to do)
 * on every send path: a unary request, a server stream's request, a client stream's or bidi stream's
 * message, a unary response and a streamed response over the client's limit. The handler never runs on a
 * request that did not arrive whole.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { MicroError, cacheSelector, newClient, newServer, type RpcClient, type RpcServer } from "../../../src/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { Greeter, type HelloRequest, type HelloResponse } from "../../fixtures/runtime/greeter.js";

const SERVER_LIMIT = 4096;
const CLIENT_LIMIT = 8192;
const big = "x".repeat(10_000);

/** Requests each handler was run with (by endpoint). */
const served: Record<string, string[]> = { hello: [], stream: [], upload: [], chat: [] };

let server: RpcServer;
let client: RpcClient;
const registry = memoryRegistry();

const target = (key: keyof typeof Greeter.methods) => ({ service: "greeter", endpoint: `Greeter.${Greeter.methods[key].name}`, method: Greeter.methods[key] });

async function* items<T>(...list: T[]): AsyncGenerator<T> {
  for (const x of list) yield x;
}

/** A 413 from the transport naming the message's size, the limit and what to do. */
const tooLarge = (what: "request" | "response", size: number | RegExp, limit: number) => (e: unknown) => {
  assert.ok(e instanceof MicroError, `expected a MicroError, got ${String(e)}`);
  assert.equal(e.code, 413, e.detail);
  const peer = what === "request" ? "server" : "client";
  const sizeText = typeof size === "number" ? String(size) : size.source;
  assert.match(e.detail, new RegExp(`^${what} message of ${sizeText} bytes exceeds the ${peer}'s limit of ${limit} bytes; .*raise the ${peer}'s maxMessageSize`));
  return true;
};

before(async () => {
  server = newServer({ name: "greeter", maxMessageSize: SERVER_LIMIT, deps: { registry, transport: tcpTransport(), broker: memoryBroker() } });
  server.handle(Greeter, {
    hello: (req: HelloRequest): HelloResponse => {
      served.hello.push(req.name);
      return { message: req.name.startsWith("big") ? big : `Hello ${req.name}` };
    },
    stream: async function* (req: HelloRequest): AsyncGenerator<HelloResponse> {
      served.stream.push(req.name);
      yield { message: "first" };
      yield { message: req.name.startsWith("big") ? big : "second" };
    },
    upload: async (requests: AsyncIterable<HelloRequest>): Promise<HelloResponse> => {
      const names: string[] = [];
      for await (const r of requests) names.push(r.name);
      served.upload.push(names.join(","));
      return { message: names.join(",") };
    },
    chat: async function* (requests: AsyncIterable<HelloRequest>): AsyncGenerator<HelloResponse> {
      for await (const r of requests) {
        served.chat.push(r.name);
        yield { message: r.name };
      }
    },
  });
  await server.start();
  client = newClient({ deps: { selector: cacheSelector({ registry }), transport: tcpTransport({ maxMessageSize: CLIENT_LIMIT }) } });
});

after(async () => {
  client?.close();
  await server?.stop();
  await registry.close();
});

test("a unary request over the server's limit rejects the call with 413; the handler does not run", async () => {
  await assert.rejects(client.call(target("hello"), { name: big }), tooLarge("request", 10_003, SERVER_LIMIT));
  assert.deepEqual(served.hello, []);
  // The same client and connection still serve a call that fits.
  assert.deepEqual(await client.call(target("hello"), { name: "John" }), { message: "Hello John" });
  assert.deepEqual(served.hello, ["John"]);
  served.hello.length = 0;
});

test("a server stream's request over the server's limit fails the stream with 413; the handler does not run", async () => {
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const r of client.serverStream(target("stream"), { name: big })) got.push(r.message);
  }, tooLarge("request", 10_003, SERVER_LIMIT));
  assert.deepEqual(got, []);
  assert.deepEqual(served.stream, []);
});

test("a client stream's message over the server's limit rejects the call with 413; the handler never completes with part of the stream", async () => {
  await assert.rejects(client.clientStream(target("upload"), items({ name: "a" }, { name: big }, { name: "c" })), tooLarge("request", 10_003, SERVER_LIMIT));
  assert.deepEqual(served.upload, [], "the handler saw a cancel, not an end of stream after 'a'");
});

test("a bidi stream's message over the server's limit fails the stream with 413", async () => {
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const r of client.bidiStream(target("chat"), items({ name: "a" }, { name: big }))) got.push(r.message);
  }, tooLarge("request", 10_003, SERVER_LIMIT));
  assert.ok(!served.chat.includes(big));
});

test("a unary response over the client's limit rejects the call with 413 naming both sizes, not a 502 or an empty success", async () => {
  await assert.rejects(client.call(target("hello"), { name: "big" }), tooLarge("response", 10_003, CLIENT_LIMIT));
});

test("a streamed response over the client's limit ends the stream with 413 after the messages that fit", async () => {
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const r of client.serverStream(target("stream"), { name: "big" })) got.push(r.message);
  }, tooLarge("response", 10_003, CLIENT_LIMIT));
  assert.deepEqual(got, ["first"]);
});
