import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  MicroError,
  cacheSelector,
  circuitBreakerWrapper,
  newClient,
  newServer,
  rateLimitClientWrapper,
  rateLimitHandlerWrapper,
  type CallFunc,
  type ClientRequest,
  type NodeRecord,
  type RpcClient,
  type RpcServer,
} from "../../../src/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { Greeter, type HelloRequest } from "../../fixtures/runtime/greeter.js";

const node: NodeRecord = { id: "n1", address: "127.0.0.1:1", metadata: {} };
const request: ClientRequest = { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello, body: { name: "x" }, options: {} };
const hello = { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello };

test("the circuit breaker opens after consecutive node failures and fails fast", async () => {
  let calls = 0;
  const failing: CallFunc = async () => {
    calls++;
    throw new MicroError("micro.transport", 503, "connection refused");
  };
  const wrapped = circuitBreakerWrapper({ threshold: 3, halfOpenAfter: 60_000 })(failing);
  for (let i = 0; i < 3; i++) await assert.rejects(wrapped(node, request), (e: unknown) => e instanceof MicroError && e.detail === "connection refused");
  await assert.rejects(wrapped(node, request), (e: unknown) => e instanceof MicroError && e.code === 503 && /circuit open for greeter at 127\.0\.0\.1:1/.test(e.detail));
  assert.equal(calls, 3, "an open circuit does not call the node");
  // Another node has its own breaker.
  await assert.rejects(wrapped({ ...node, address: "127.0.0.1:2" }, request), (e: unknown) => (e as MicroError).detail === "connection refused");
  assert.equal(calls, 4);
});

test("application errors (4xx) never open the circuit", async () => {
  let calls = 0;
  const wrapped = circuitBreakerWrapper({ threshold: 2 })(async () => {
    calls++;
    throw MicroError.conflict("greeter", "taken");
  });
  for (let i = 0; i < 5; i++) await assert.rejects(wrapped(node, request), (e: unknown) => (e as MicroError).code === 409);
  assert.equal(calls, 5);
});

test("the client rate limit rejects calls over budget with 429", async () => {
  let calls = 0;
  const wrapped = rateLimitClientWrapper({ rate: 2, per: 60 })(async () => ++calls);
  assert.equal(await wrapped(request), 1);
  assert.equal(await wrapped(request), 2);
  await assert.rejects(wrapped(request), (e: unknown) => e instanceof MicroError && e.code === 429 && /rate limit of 2 per 60s exceeded for greeter Greeter.Hello/.test(e.detail));
  assert.equal(calls, 2);
});

test("bad rate limit options are refused", () => {
  assert.throws(() => rateLimitHandlerWrapper({ rate: 0 }), (e: unknown) => e instanceof MicroError && e.code === 400 && e.id === "micro.ratelimit" && /rate must be a positive number/.test(e.detail));
  assert.throws(() => rateLimitClientWrapper({ rate: 1, per: -1 }), (e: unknown) => e instanceof MicroError && e.code === 400 && /per must be a positive number of seconds/.test(e.detail));
});

// Onion order end to end: client wrappers → call wrappers → (wire) → server wrappers → handler wrappers → handler.
let server: RpcServer;
let client: RpcClient;
const trail: string[] = [];
const registry = memoryRegistry();
const transport = tcpTransport();
const broker = memoryBroker();

const mark =
  (name: string) =>
  <F extends (...args: any[]) => Promise<unknown> | unknown>(next: F): F =>
    (async (...args: unknown[]) => {
      trail.push(`>${name}`);
      try {
        return await next(...args);
      } finally {
        trail.push(`<${name}`);
      }
    }) as unknown as F;

before(async () => {
  server = newServer({
    name: "greeter",
    deps: { registry, transport, broker },
    wrappers: [mark("server1"), mark("server2"), rateLimitHandlerWrapper({ rate: 3, per: 60, key: (r) => ((r.body as HelloRequest).name.startsWith("limited") ? "limited" : r.context.endpoint + Math.random()) })],
  });
  server.handle(
    Greeter,
    {
      hello: (r: HelloRequest) => {
        trail.push("handler");
        return { message: `hi ${r.name}` };
      },
      stream: async function* () {},
      upload: async () => ({ message: "" }),
      chat: async function* () {},
    },
    { wrappers: [mark("handler1")] },
  );
  await server.start();
  client = newClient({
    deps: { selector: cacheSelector({ registry }), transport },
    wrappers: [mark("client1"), mark("client2")],
    callWrappers: [mark("call1"), mark("call2")],
  });
});

after(async () => {
  client?.close();
  await server?.stop();
  await registry.close();
});

test("wrappers run in onion order, first given outermost, on both sides", async () => {
  trail.length = 0;
  const rsp = await client.call(hello, { name: "onion" });
  assert.equal(rsp.message, "hi onion");
  assert.deepEqual(trail, [">client1", ">client2", ">call1", ">call2", ">server1", ">server2", ">handler1", "handler", "<handler1", "<server2", "<server1", "<call2", "<call1", "<client2", "<client1"]);
});

test("the handler rate limit answers 429 over the wire before the handler runs", async () => {
  for (let i = 0; i < 3; i++) assert.equal((await client.call(hello, { name: `limited${i}` })).message, `hi limited${i}`);
  trail.length = 0;
  await assert.rejects(client.call(hello, { name: "limited3" }), (e: unknown) => e instanceof MicroError && e.code === 429 && /rate limit of 3 per 60s exceeded/.test(e.detail));
  assert.ok(!trail.includes("handler"), "the handler did not run");
});
