/**
 * The completion catalog over a real (memory) registry: names are listed once, then follow the registry's
 * watch — a service registering appears, its last node leaving removes it — and endpoints come from the
 * caching registry.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { memoryRegistry, type ServiceRecord } from "../../../src/index.js";
import { RegistryCatalog } from "../../../src/cli/interactive/catalog.js";

const record = (name: string, node: string, endpoints: string[] = []): ServiceRecord => ({
  name,
  version: "1.0.0",
  endpoints: endpoints.map((e) => ({ name: e, metadata: {} })),
  nodes: [{ id: node, address: "127.0.0.1:1", metadata: {} }],
});

/** Poll `read` until `ok` holds (bounded). */
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > end) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test("service names follow the registry's watch; endpoints come from the cache", async () => {
  const registry = memoryRegistry();
  const catalog = new RegistryCatalog(registry);
  try {
    await registry.register(record("greeter", "g1", ["Greeter.Stream", "Greeter.Hello"]));
    await registry.register(record("micro.broker.events", "b1"));
    assert.deepEqual(await catalog.services(), ["greeter"]);
    assert.deepEqual(await catalog.endpoints("greeter"), ["Greeter.Hello", "Greeter.Stream"]);
    assert.deepEqual(await catalog.endpoints("nosuch"), []);

    await registry.register(record("accounts", "a1"));
    assert.deepEqual(await until(() => catalog.services(), (n) => n.includes("accounts")), ["accounts", "greeter"]);

    // Two nodes: the service stays until the last one leaves.
    await registry.register(record("greeter", "g2", ["Greeter.Hello"]));
    await registry.deregister(record("greeter", "g1"));
    await registry.register(record("marker", "m1"));
    assert.deepEqual(await until(() => catalog.services(), (n) => n.includes("marker")), ["accounts", "greeter", "marker"]);
    await registry.deregister(record("greeter", "g2"));
    assert.deepEqual(await until(() => catalog.services(), (n) => !n.includes("greeter")), ["accounts", "marker"]);
  } finally {
    await catalog.close();
    await registry.close();
  }
});

test("a registry that is only lookups (a sidecar's) is asked at every Tab", async () => {
  const records = [record("greeter", "g1", ["Greeter.Hello"]), record("micro.broker.t", "b1")];
  let lists = 0;
  const catalog = new RegistryCatalog({
    listServices: async () => (lists++, records.slice()),
    getService: async (name) => records.filter((r) => r.name === name),
  });
  assert.deepEqual(await catalog.services(), ["greeter"]);
  records.push(record("accounts", "a1"));
  assert.deepEqual(await catalog.services(), ["accounts", "greeter"]);
  assert.equal(lists, 2);
  assert.deepEqual(await catalog.endpoints("greeter"), ["Greeter.Hello"]);
  await catalog.close();
});
