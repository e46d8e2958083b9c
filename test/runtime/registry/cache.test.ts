/** The cached registry: served from memory for its TTL, kept current by watch, stale when the registry fails. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Registry, RegistryEvent, ServiceRecord, Watcher } from "../../../src/runtime/registry/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { cachedRegistry } from "../../../src/runtime/registry/cache.js";
import { setRootLogger } from "../../../src/runtime/logger/index.js";
import { pino } from "pino";
import { eventually } from "./fixtures/child.js";

setRootLogger(pino({ level: "silent" }));

const svc = (name: string, ...ids: string[]): ServiceRecord => ({
  name,
  version: "1",
  endpoints: [],
  nodes: ids.map((id) => ({ id, address: `${id}:1`, metadata: {} })),
});

/** A registry that counts lookups and can be made to fail, over a memory registry. */
function instrumented(): { registry: Registry; lookups: () => number; fail: (on: boolean) => void; watchable: (on: boolean) => void } {
  const inner = memoryRegistry();
  let lookups = 0;
  let failing = false;
  let watching = true;
  return {
    registry: {
      ...inner,
      name: "instrumented",
      async getService(name) {
        lookups++;
        if (failing) throw new Error("registry unreachable");
        return inner.getService(name);
      },
      watch(options) {
        if (!watching) throw new Error("no watch today");
        return inner.watch(options);
      },
      register: (s, o) => inner.register(s, o),
      deregister: (s) => inner.deregister(s),
      close: () => inner.close(),
    },
    lookups: () => lookups,
    fail: (on) => (failing = on),
    watchable: (on) => (watching = on),
  };
}

test("answers from memory within the TTL and looks up again after it", async () => {
  const { registry, lookups, watchable } = instrumented();
  watchable(false); // only the TTL refreshes here
  const cache = cachedRegistry(registry, { ttl: 150 });
  await registry.register(svc("a", "n1"));
  assert.deepEqual((await cache.getService("a"))[0].nodes.map((n) => n.id), ["n1"]);
  await cache.getService("a");
  await cache.getService("a");
  assert.equal(lookups(), 1, "two reads within the TTL hit the cache");
  const shared = await cache.lookup("a");
  assert.ok(Object.isFrozen(shared) && Object.isFrozen(shared[0].nodes[0].metadata), "lookup shares frozen records");
  const mine = await cache.getService("a");
  (mine[0].nodes as unknown[]).length = 0;
  assert.equal((await cache.getService("a"))[0].nodes.length, 1, "getService returns a copy the caller may change");
  await registry.register(svc("a", "n2"));
  await eventually(async () => (await cache.getService("a"))[0].nodes.length === 2, "a lookup after the TTL");
  assert.ok(lookups() >= 2);
  const before = lookups();
  await Promise.all([cache.getService("zzz"), cache.getService("zzz"), cache.getService("zzz")]);
  assert.equal(lookups() - before, 1, "concurrent lookups of one service share one registry call");
  await cache.close();
  await registry.close();
});

test("watch events update the cached entries without a new lookup", async () => {
  const { registry, lookups } = instrumented();
  const cache = cachedRegistry(registry, { ttl: 60_000 });
  await registry.register(svc("w", "n1"));
  await cache.getService("w");
  const n = lookups();
  await registry.register(svc("w", "n2"));
  await eventually(async () => (await cache.getService("w"))[0].nodes.length === 2, "the create applied to the cache");
  await registry.deregister(svc("w", "n1"));
  await eventually(async () => (await cache.getService("w"))[0].nodes.map((x) => x.id).join() === "n2", "the delete applied");
  await registry.deregister(svc("w", "n2"));
  await eventually(async () => (await cache.getService("w")).length === 0, "the last node's delete applied");
  assert.equal(lookups(), n, "no lookups: the watch kept the entry current");
  cache.invalidate("w");
  await cache.getService("w");
  assert.equal(lookups(), n + 1, "invalidate forces a lookup");
  await cache.close();
  await registry.close();
});

test("serves the last known nodes when the registry fails, and fails when it knows nothing", async () => {
  const { registry, fail, watchable } = instrumented();
  watchable(false);
  const cache = cachedRegistry(registry, { ttl: 1 });
  await registry.register(svc("s", "n1"));
  await cache.getService("s");
  fail(true);
  await eventually(async () => (await cache.getService("s"))[0]?.nodes[0].id === "n1", "stale nodes served");
  await assert.rejects(cache.getService("unknown"), /registry unreachable/);
  fail(false);
  await registry.register(svc("s", "n2"));
  await eventually(async () => (await cache.getService("s"))[0].nodes.length === 2, "fresh again once the registry is back");
  await cache.close();
  await registry.close();
});

/**
 * A registry the test drives by hand: each getService runs `answer`, and watch events are pushed with `emit`;
 * `applied(n)` resolves once the cache has asked for its n-th event, i.e. has applied the ones before it.
 */
function scripted(): {
  registry: Registry;
  setAnswer: (answer: () => Promise<ServiceRecord[]>) => void;
  lookups: () => number;
  emit: (event: RegistryEvent) => void;
  applied: (pulls: number) => Promise<void>;
} {
  let answer: () => Promise<ServiceRecord[]> = async () => [];
  let lookups = 0;
  const queue: RegistryEvent[] = [];
  let waiting: ((result: IteratorResult<RegistryEvent>) => void) | undefined;
  let pulls = 0;
  let pullWaiters: Array<{ pulls: number; resolve: () => void }> = [];
  const watcher: Watcher = {
    stop: () => waiting?.({ done: true, value: undefined }),
    [Symbol.asyncIterator]: () => ({
      next: () => {
        pulls++;
        for (const w of pullWaiters.filter((x) => pulls >= x.pulls)) w.resolve();
        pullWaiters = pullWaiters.filter((x) => pulls < x.pulls);
        const event = queue.shift();
        return event ? Promise.resolve({ done: false, value: event }) : new Promise<IteratorResult<RegistryEvent>>((r) => (waiting = r));
      },
    }),
  };
  return {
    registry: {
      name: "scripted",
      register: async () => undefined,
      deregister: async () => undefined,
      listServices: async () => [],
      getService: () => (lookups++, answer()),
      watch: () => watcher,
      close: async () => undefined,
    },
    setAnswer: (a) => (answer = a),
    lookups: () => lookups,
    emit: (event) => {
      const w = waiting;
      waiting = undefined;
      if (w) w({ done: false, value: event });
      else queue.push(event);
    },
    applied: (n) => new Promise<void>((resolve) => (pulls >= n ? resolve() : pullWaiters.push({ pulls: n, resolve }))),
  };
}

test("a lookup in flight when a watch event arrives does not overwrite the entry the event updated", async () => {
  const { registry, setAnswer, emit, applied } = scripted();
  const cache = cachedRegistry(registry, { ttl: 0 }); // every lookup goes to the registry; the entry stays as the stale fallback
  setAnswer(async () => [svc("g", "n1")]);
  await cache.lookup("g");
  // A second lookup reads the registry before n2 registers, and is held there.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  setAnswer(async () => (await held, [svc("g", "n1")]));
  const inFlight = cache.lookup("g");
  emit({ action: "create", service: svc("g", "n2") });
  await applied(2);
  release();
  await inFlight;
  // The registry fails now: the cached entry is what is served, and it must still know n2.
  setAnswer(async () => {
    throw new Error("registry unreachable");
  });
  assert.deepEqual((await cache.lookup("g"))[0].nodes.map((n) => n.id), ["n1", "n2"]);
  await cache.close();
});

test("a first lookup in flight when a watch event arrives is not cached, so the next lookup asks again", async () => {
  const { registry, setAnswer, lookups, emit, applied } = scripted();
  const cache = cachedRegistry(registry, { ttl: 60_000 });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  setAnswer(async () => (await held, [svc("h", "n1")]));
  const inFlight = cache.lookup("h");
  emit({ action: "create", service: svc("h", "n2") });
  await applied(2);
  release();
  assert.deepEqual((await inFlight)[0].nodes.map((n) => n.id), ["n1"]);
  setAnswer(async () => [svc("h", "n1", "n2")]);
  assert.deepEqual((await cache.lookup("h"))[0].nodes.map((n) => n.id), ["n1", "n2"]);
  assert.equal(lookups(), 2);
  await cache.close();
});
