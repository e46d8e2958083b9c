import { test } from "node:test";
import assert from "node:assert/strict";
import { healthMethod, newService, type RpcServer } from "../../../src/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import { Greeter } from "../../fixtures/runtime/greeter.js";
import { registryPlugins, type RegistryFactory } from "../../../src/runtime/config/index.js";

test("hooks run around start and stop; run() resolves after stop(); the registration comes and goes", async () => {
  const registry = memoryRegistry();
  const order: string[] = [];
  let started!: () => void;
  const startedPromise = new Promise<void>((r) => (started = r));
  const service = newService({
    name: "greeter",
    registry,
    broker: memoryBroker(),
    handleSignals: false,
    argv: [],
    env: {},
    beforeStart: () => void order.push("beforeStart"),
    afterStart: [() => void order.push("afterStart 1"), async () => (order.push("afterStart 2"), started())],
    beforeStop: () => void order.push("beforeStop"),
    afterStop: () => void order.push("afterStop"),
  });
  service.init();
  service.server().handle(Greeter, {
    hello: () => ({ message: "hi" }),
    stream: async function* () {},
    upload: async () => ({ message: "" }),
    chat: async function* () {},
  });
  const running = service.run();
  await startedPromise;
  assert.equal((await registry.getService("greeter"))[0]?.nodes.length, 1);
  const address = (service.server() as RpcServer).address!;
  const health = await service.client().call({ service: "greeter", endpoint: "Debug.Health", method: healthMethod }, {}, { address });
  assert.deepEqual(health, { status: "ok" });
  await service.stop();
  await running;
  assert.deepEqual(order, ["beforeStart", "afterStart 1", "afterStart 2", "beforeStop", "afterStop"]);
  assert.deepEqual(await registry.getService("greeter"), []);
  await registry.close();
});

test("a service without a name refuses to start, saying how to name it", async () => {
  const service = newService({ argv: [], env: {}, registry: memoryRegistry(), broker: memoryBroker(), handleSignals: false });
  await assert.rejects(service.run(), /the service has no name: give newService\(\{ name \}\) or --server_name/);
  await service.stop();
});

test("a start that fails (address taken) rejects with the reason and releases what it built", async () => {
  const registry = memoryRegistry();
  const first = newService({ name: "one", registry, broker: memoryBroker(), handleSignals: false, argv: [], env: {} });
  await first.start();
  const taken = (first.server() as RpcServer).address!;
  const second = newService({ name: "two", address: taken, registry, broker: memoryBroker(), handleSignals: false, argv: [], env: {} });
  await assert.rejects(second.start(), /cannot listen on .*port is taken/);
  assert.deepEqual(await registry.getService("two"), []);
  await first.stop();
  await registry.close();
});

test("a stopped service starts again on fresh plugins", async () => {
  const service = newService({ name: "again", argv: ["--registry", "memory", "--broker", "memory"], env: {}, handleSignals: false });
  await service.start();
  await service.stop();
  await service.start();
  const address = (service.server() as RpcServer).address!;
  assert.deepEqual(await service.client().call({ service: "again", endpoint: "Debug.Health", method: healthMethod }, {}, { address }), { status: "ok" });
  assert.equal((await (await service.plugins()).registry.getService("again"))[0]?.nodes[0]?.address, address);
  await service.stop();
});

test("a plugin setup that fails is tried again by the next plugins() call instead of failing for good", async () => {
  // A registry plugin that cannot be built the first time (say, its server is not up yet), then can.
  const table = registryPlugins as Record<string, RegistryFactory>;
  let attempts = 0;
  const registry = memoryRegistry();
  table.flaky_once = async () => {
    attempts++;
    if (attempts === 1) throw new Error("registry not reachable yet");
    return registry;
  };
  try {
    const service = newService({ name: "retrying", argv: ["--registry", "flaky_once"], env: {}, broker: memoryBroker(), handleSignals: false });
    await assert.rejects(service.plugins(), /registry not reachable yet/);
    const plugins = await service.plugins();
    assert.equal(plugins.registry, registry);
    assert.equal(attempts, 2);
    await service.stop();
  } finally {
    delete table.flaky_once;
    await registry.close();
  }
});

test("stop() while start() is in progress waits for the start, then stops: nothing stays registered and run() resolves", async () => {
  const registry = memoryRegistry();
  const order: string[] = [];
  let entered!: () => void;
  const inBeforeStart = new Promise<void>((r) => (entered = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let startDone!: () => void;
  const afterStartRan = new Promise<void>((r) => (startDone = r));
  const service = newService({
    name: "early-stop",
    registry,
    broker: memoryBroker(),
    handleSignals: false,
    argv: [],
    env: {},
    beforeStart: async () => (entered(), await gate),
    afterStart: () => (order.push("afterStart"), startDone()),
    afterStop: () => void order.push("afterStop"),
  });
  const running = service.run();
  await inBeforeStart;
  const stopping = service.stop().then(() => void order.push("stop resolved"));
  release();
  await stopping;
  // Without the fix the stop resolved at once and the start went on afterwards: wait for it either way.
  await afterStartRan;
  assert.deepEqual(await registry.getService("early-stop"), []);
  assert.deepEqual(order, ["afterStart", "afterStop", "stop resolved"]);
  await running;
  await registry.close();
});

test("a second start() while one is in progress is refused, saying a start is in progress; the first one comes up", async () => {
  const registry = memoryRegistry();
  const service = newService({ name: "twice", registry, broker: memoryBroker(), handleSignals: false, argv: [], env: {} });
  const first = service.start();
  await assert.rejects(service.start(), /service twice is already starting: a start is in progress/);
  await first;
  assert.equal((await registry.getService("twice"))[0]?.nodes.length, 1);
  await service.start(); // already running: resolves at once
  await service.stop();
  assert.deepEqual(await registry.getService("twice"), []);
  await registry.close();
});
