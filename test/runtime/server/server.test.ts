import { test } from "node:test";
import assert from "node:assert/strict";
import { newServer, type Broker, type Subscriber } from "../../../src/index.js";
import { decodePayload, brokerHandlerFor } from "../../../src/runtime/server/subscriber.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { Greeter, HelloRequestCodec } from "../../fixtures/runtime/greeter.js";

const impl = {
  hello: () => ({ message: "hi" }),
  stream: async function* () {},
  upload: async () => ({ message: "" }),
  chat: async function* () {},
};

test("the server registers its node and every endpoint with fields, kind and HTTP rules; stop deregisters", async () => {
  const registry = memoryRegistry();
  const server = newServer({ name: "greeter", version: "1.2.3", metadata: { team: "core" }, deps: { registry, transport: tcpTransport(), broker: memoryBroker() } });
  server.handle(Greeter, impl, { metadata: { auth: "none" } });
  server.handle({ name: "Admin", fullName: "greeter.v1.Admin", methods: { hello: { ...Greeter.methods.hello, name: "Reset" } } }, { hello: impl.hello }, { internal: true });
  await server.start();
  try {
    const [svc] = await registry.getService("greeter");
    assert.ok(svc);
    assert.equal(svc.version, "1.2.3");
    assert.equal(svc.nodes.length, 1);
    const node = svc.nodes[0]!;
    assert.equal(node.address, server.address);
    assert.match(node.address, /^127\.0\.0\.1:\d+$/);
    assert.match(node.id, /^greeter-/);
    assert.deepEqual(
      { transport: node.metadata.transport, broker: node.metadata.broker, registry: node.metadata.registry, protocol: node.metadata.protocol, server: node.metadata.server, team: node.metadata.team },
      { transport: "tcp", broker: "memory", registry: "memory", protocol: "micro", server: "micro-ts", team: "core" },
    );
    assert.deepEqual(svc.endpoints.map((e) => e.name).sort(), ["Greeter.Chat", "Greeter.Hello", "Greeter.Stream", "Greeter.Upload"], "internal handlers and Debug.Health are not published");
    const hello = svc.endpoints.find((e) => e.name === "Greeter.Hello")!;
    assert.deepEqual(hello.request, { name: "HelloRequest", type: "greeter.v1.HelloRequest", values: [{ name: "name", type: "string" }] });
    assert.deepEqual(hello.response, { name: "HelloResponse", type: "greeter.v1.HelloResponse", values: [{ name: "message", type: "string" }] });
    assert.equal(hello.metadata.stream, "unary");
    assert.equal(hello.metadata.auth, "none");
    assert.deepEqual(JSON.parse(hello.metadata.http!), [{ method: "POST", path: "/v1/hello", body: "*" }]);
    assert.equal(svc.endpoints.find((e) => e.name === "Greeter.Chat")!.metadata.stream, "bidi_streaming");
  } finally {
    await server.stop();
  }
  assert.deepEqual(await registry.getService("greeter"), []);
  await registry.close();
});

test("a handler missing a method is refused, naming it", () => {
  const server = newServer({ name: "greeter" });
  assert.throws(() => server.handle(Greeter, { hello: impl.hello }), /has no function "stream" \(endpoint Greeter\.Stream\)/);
});

test("published payloads decode by content type: codec, JSON through the codec, plain JSON, raw bytes", async () => {
  const proto = { header: { "Content-Type": "application/protobuf" }, body: HelloRequestCodec.encode({ name: "p" }) };
  const json = { header: { "Content-Type": "application/json" }, body: new TextEncoder().encode('{"name":"j","extra":1}') };
  assert.deepEqual(decodePayload(proto, HelloRequestCodec, "t"), { name: "p" });
  assert.deepEqual(decodePayload(json, HelloRequestCodec, "t"), { name: "j" });
  assert.deepEqual(decodePayload(json, undefined, "t"), { name: "j", extra: 1 });
  assert.deepEqual(decodePayload(proto, undefined, "t"), proto.body);
  assert.throws(() => decodePayload({ header: { "Content-Type": "application/json" }, body: new TextEncoder().encode("{nope") }, undefined, "orders"), /message on topic orders is not valid JSON/);

  const seen: string[] = [];
  const sub: Subscriber<{ name: string }> = {
    topic: "t",
    handler: (e) => void seen.push(`handler ${e.message.name} ${e.metadata["x-a"]}`),
    options: { codec: HelloRequestCodec, wrappers: [(next) => async (e) => (seen.push("own"), next(e))] },
  };
  const handler = brokerHandlerFor(sub, [(next) => async (e) => (seen.push("server"), next(e))]);
  await handler({ topic: "t", message: { ...proto, header: { ...proto.header, "x-a": "1" } } });
  assert.deepEqual(seen, ["server", "own", "handler p 1"]);
});

test("a subscribe() still in progress when the server stops is undone, not left subscribed", async () => {
  const inner = memoryBroker();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let subscribed = 0;
  let unsubscribed = 0;
  // The memory broker, with subscribe held until the server has stopped.
  const broker: Broker = {
    name: inner.name,
    address: inner.address,
    connect: () => inner.connect(),
    disconnect: () => inner.disconnect(),
    publish: (topic, message) => inner.publish(topic, message),
    subscribe: async (topic, handler, options) => {
      const sub = await inner.subscribe(topic, handler, options);
      subscribed += 1;
      await gate;
      return { topic, unsubscribe: async () => (unsubscribed += 1, sub.unsubscribe()) };
    },
  };
  const server = newServer({ name: "late-sub", deps: { registry: memoryRegistry(), transport: tcpTransport(), broker } });
  await server.start();
  server.subscribe({ topic: "late", handler: () => {}, options: {} });
  await server.stop();
  release();
  // The subscription resolves after the stop; give the server a bounded number of turns to deal with it.
  for (let turn = 0; turn < 1000 && unsubscribed === 0; turn++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(subscribed, 1);
  assert.equal(unsubscribed, 1, "the late subscription was unsubscribed");
});

test("stop() called while start() is still in progress waits for it, then stops: the node does not stay registered", async () => {
  const registry = memoryRegistry();
  const server = newServer({ name: "stop-early", deps: { registry, transport: tcpTransport(), broker: memoryBroker() } });
  const started = server.start();
  try {
    await server.stop();
    await started;
    assert.deepEqual(await registry.getService("stop-early"), [], "deregistered by the stop");
    assert.equal(server.address, undefined, "no longer serving");
  } finally {
    await started.catch(() => undefined);
    await server.stop();
  }
});
