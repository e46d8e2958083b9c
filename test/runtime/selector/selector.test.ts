/** The cache selector: strategies, nodes put aside after connection failures, and its errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { cacheSelector, newRoundRobin, random, roundRobin } from "../../../src/runtime/selector/index.js";
import type { ServiceRecord } from "../../../src/runtime/registry/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { setRootLogger } from "../../../src/runtime/logger/index.js";
import { eventually } from "../registry/fixtures/child.js";

setRootLogger(pino({ level: "silent" }));

const svc = (name: string, version: string, ...ids: string[]): ServiceRecord => ({
  name,
  version,
  endpoints: [],
  nodes: ids.map((id) => ({ id, address: `${id}:1`, metadata: { zone: id.startsWith("z") ? "z" : "a" } })),
});
const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });

async function setup(options: { ejectionTime?: number; strategy?: typeof random } = {}) {
  const registry = memoryRegistry();
  await registry.register(svc("greeter", "1", "n1", "n2"));
  await registry.register(svc("greeter", "2", "n3"));
  const selector = cacheSelector({ registry, ...options });
  return { registry, selector, close: async () => (await selector.close(), await registry.close()) };
}

test("random spreads picks over every node of every version", async () => {
  const { selector, close } = await setup();
  const counts = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const id = (await selector.select("greeter"))().id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), ["n1", "n2", "n3"]);
  for (const [id, n] of counts) assert.ok(n > 30, `${id} picked ${n} times of 300`);
  await close();
});

test("roundRobin cycles through the nodes, within one Next and across selects", async () => {
  const { selector, close } = await setup({ strategy: newRoundRobin() });
  const next = await selector.select("greeter");
  const first = [next().id, next().id, next().id];
  assert.deepEqual([...first].sort(), ["n1", "n2", "n3"]);
  const again = [];
  for (let i = 0; i < 3; i++) again.push((await selector.select("greeter"))().id);
  assert.deepEqual(again, first, "the cycle continues across select calls");
  assert.equal(typeof roundRobin, "function");
  await close();
});

test("a node that failed is skipped, then a probe brings it back (select and mark)", async () => {
  const { selector, close } = await setup({ ejectionTime: 300 });
  const n1 = { id: "n1", address: "n1:1", metadata: {} };
  selector.mark("greeter", n1, refused);
  for (let i = 0; i < 50; i++) assert.notEqual((await selector.select("greeter"))().id, "n1");
  // After the ejection time one pick probes n1; its outcome, reported with mark, decides.
  await eventually(async () => (await pickIds(selector, 30)).has("n1"), "n1 probed after its ejection time");
  // An application error is an answer (not a node failure): the probe succeeded, n1 is back.
  selector.mark("greeter", n1, MicroError.internalServerError("greeter", "boom"));
  assert.ok((await pickIds(selector, 60)).has("n1"));
  // A success reported for a call from before the ejection does not bring it back: only a probe does.
  selector.mark("greeter", n1, new MicroError("micro.transport", 503, "connection lost"));
  assert.ok(!(await pickIds(selector, 30)).has("n1"));
  selector.mark("greeter", n1);
  assert.ok(!(await pickIds(selector, 30)).has("n1"));
  await close();
});

test("a Next skips nodes marked after select, and all-marked falls back to every node", async () => {
  const { selector, close } = await setup({ ejectionTime: 60_000 });
  const next = await selector.select("greeter", { strategy: newRoundRobin() });
  const a = next();
  selector.mark("greeter", a, refused);
  for (let i = 0; i < 10; i++) assert.notEqual(next().id, a.id);
  for (const id of ["n1", "n2", "n3"]) selector.mark("greeter", { id, address: "", metadata: {} }, new MicroError("micro.transport", 408, "dial timeout"));
  assert.deepEqual([...(await pickIds(selector, 60))].sort(), ["n1", "n2", "n3"], "every node is tried again rather than failing");
  selector.reset("greeter");
  assert.equal((await pickIds(selector, 60)).size, 3);
  await close();
});

test("filters narrow the nodes; a service without nodes is a 404 with advice", async () => {
  const { selector, close } = await setup();
  const v2 = (services: readonly ServiceRecord[]) => services.filter((s) => s.version === "2");
  for (let i = 0; i < 10; i++) assert.equal((await selector.select("greeter", { filters: [v2] }))().id, "n3");
  await assert.rejects(selector.select("greeter", { filters: [() => []] }), (e: unknown) => e instanceof MicroError && e.code === 404 && /filters/.test(e.detail));
  await assert.rejects(selector.select("nobody"), (e: unknown) => {
    assert.ok(e instanceof MicroError);
    assert.equal(e.code, 404);
    assert.equal(e.id, "micro.selector");
    assert.match(e.detail, /^service nobody not found: no node is registered/);
    assert.match(e.detail, /micro list services/);
    return true;
  });
  await close();
});

test("the selector sees nodes registered and removed after its first lookup", async () => {
  const { registry, selector, close } = await setup();
  await pickIds(selector, 1);
  await registry.register(svc("greeter", "1", "n4"));
  await eventually(async () => (await pickIds(selector, 80)).has("n4"), "n4 selected");
  await registry.deregister(svc("greeter", "1", "n1", "n2"));
  await registry.deregister(svc("greeter", "2", "n3"));
  await eventually(async () => [...(await pickIds(selector, 20))].join() === "n4", "only n4 left");
  await close();
});

async function pickIds(selector: ReturnType<typeof cacheSelector>, n: number): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let i = 0; i < n; i++) ids.add((await selector.select("greeter"))().id);
  return ids;
}
