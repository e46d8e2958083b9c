/**
 * The selector's node state machine through `pick`/`done`: ejection on a node failure, exactly one probe after
 * the ejection time, the probe alone deciding (success: back; failure: out again, for longer), N refused
 * connections dropping a node until the registry announces it again, and the strategies that weigh nodes.
 */
import { mock, test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { cacheSelector, latency, leastConn, type CacheSelectorOptions, type Selection, type Selector } from "../../../src/runtime/selector/index.js";
import type { ServiceRecord } from "../../../src/runtime/registry/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { setRootLogger } from "../../../src/runtime/logger/index.js";

setRootLogger(pino({ level: "silent" }));

const svc = (...nodes: [id: string, address?: string][]): ServiceRecord => ({
  name: "greeter",
  version: "1",
  endpoints: [],
  nodes: nodes.map(([id, address]) => ({ id, address: address ?? `${id}:1`, metadata: {} })),
});
const timeout = () => new MicroError("micro.client", 408, "request timed out");
const refused = () => new MicroError("micro.transport", 503, "dial n1:1: connection refused", undefined, { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
/**
 * The selector's clock is Date.now(): the tests drive it by hand, so that "the second ejection is longer than
 * the first" does not depend on how busy the machine is. `sleep` moves the clock and lets pending work run.
 */
mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
const turn = () => new Promise((r) => setImmediate(r));
const sleep = async (ms: number) => {
  mock.timers.tick(ms);
  await turn();
};
const realSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Poll `check` while the clock moves on (a watch event, or a cache TTL running out); fails after 200 turns. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(10);
    await realSleep(1);
  }
  assert.fail(`${what}: never happened`);
}

async function setup(options: Partial<CacheSelectorOptions> = {}) {
  const registry = memoryRegistry();
  await registry.register(svc(["n1"], ["n2"], ["n3"]));
  const selector = cacheSelector({ registry, ...options });
  return { registry, selector, close: async () => (await selector.close(), await registry.close()) };
}

/** Pick `n` times, each call answered at once unless `keep` (then left in flight and returned). */
async function picks(selector: Selector, n: number, keep = false): Promise<Selection[]> {
  const out: Selection[] = [];
  for (let i = 0; i < n; i++) {
    const s = await selector.pick!("greeter");
    if (!keep) s.done();
    out.push(s);
  }
  return out;
}
const ids = (ss: Selection[]) => new Set(ss.map((s) => s.node.id));

/** Pick until n1 comes up (as it does once nothing else is picked first); then eject it with `error`. */
async function fail(selector: Selector, error: unknown): Promise<void> {
  for (;;) {
    const s = await selector.pick!("greeter");
    if (s.node.id === "n1") return s.done(error);
    s.done();
  }
}

test("a node failure ejects the node; after the ejection time exactly one probe goes to it", async () => {
  const { selector, close } = await setup({ ejectionTime: 100 });
  await fail(selector, timeout());
  assert.ok(!ids(await picks(selector, 60)).has("n1"), "ejected: not picked");
  await sleep(120);
  // Many calls at once, none answered yet: one of them is the probe, the rest go elsewhere.
  const inFlight = await picks(selector, 40, true);
  const toN1 = inFlight.filter((s) => s.node.id === "n1");
  assert.equal(toN1.length, 1, "exactly one call goes to the ejected node");
  assert.equal(toN1[0]!.probe, true);
  assert.equal(inFlight.filter((s) => s.probe).length, 1);
  // Calls from before the ejection say nothing: a late success does not bring it back.
  for (const s of inFlight) if (!s.probe) s.done();
  assert.ok(!ids(await picks(selector, 40)).has("n1"), "still out while the probe is in flight");
  toN1[0]!.done();
  assert.ok(ids(await picks(selector, 60)).has("n1"), "the probe's success returns it to rotation");
  await close();
});

test("a failed probe ejects the node again, for longer (bounded); stale results are ignored", async () => {
  const { selector, close } = await setup({ ejectionTime: 80, maxEjectionTime: 160 });
  const late = (await picks(selector, 30, true)).filter((s) => s.node.id === "n1");
  await fail(selector, timeout());
  for (const s of late) s.done(timeout()); // calls from before the ejection: no second ejection, no longer time
  await sleep(100);
  const probe = (await picks(selector, 30)).find((s) => s.node.id === "n1");
  assert.ok(probe?.probe, "probe after 80 ms");
  // picks() answered it: back. Fail it again from rotation, then fail its probe.
  await fail(selector, timeout()); // second ejection: 160 ms
  await sleep(100);
  assert.ok(!ids(await picks(selector, 30)).has("n1"), "the second ejection is longer than the first");
  await sleep(80);
  const second = (await picks(selector, 30, true)).find((s) => s.node.id === "n1");
  assert.ok(second?.probe);
  second.done(timeout()); // third ejection: capped at 160 ms
  assert.ok(!ids(await picks(selector, 30)).has("n1"));
  await sleep(180);
  assert.ok(ids(await picks(selector, 30)).has("n1"), "the cap bounds the ejection time");
  await close();
});

test("N refused connections in a row drop a node until the registry announces it again", async () => {
  const { registry, selector, close } = await setup({ ejectionTime: 30, maxEjectionTime: 30, dropAfter: 3 });
  await fail(selector, refused()); // 1: ejected
  for (let i = 2; i <= 3; i++) {
    await sleep(40);
    const probe = (await picks(selector, 20, true)).find((s) => s.node.id === "n1");
    assert.ok(probe?.probe, `probe ${i}`);
    probe.done(refused()); // 2: ejected again; 3: dropped
  }
  await sleep(80);
  assert.ok(!ids(await picks(selector, 60)).has("n1"), "dropped: not even probed");
  // The registry announces n1 again (a changed record: an update event): back in rotation.
  await registry.register({ ...svc(["n1"]), nodes: [{ id: "n1", address: "n1:1", metadata: { restarted: "yes" } }] });
  await eventually(async () => ids(await picks(selector, 30)).has("n1"), "n1 back after its re-announcement");
  await close();
});

test("a timeout between refused connections starts the count over", async () => {
  const { selector, close } = await setup({ ejectionTime: 30, maxEjectionTime: 30, dropAfter: 2, cacheTtl: 1 });
  await fail(selector, refused());
  await sleep(40);
  let probe = (await picks(selector, 20, true)).find((s) => s.probe)!;
  probe.done(timeout()); // not a refusal: the count starts over
  await sleep(40);
  probe = (await picks(selector, 20, true)).find((s) => s.probe)!;
  probe.done(refused()); // 1
  await sleep(40);
  probe = (await picks(selector, 20, true)).find((s) => s.probe)!;
  probe.done(refused()); // 2: dropped
  await sleep(60);
  assert.ok(!ids(await picks(selector, 40)).has("n1"));
  await close();
});

test("without a watch, a lookup giving a dropped node another address brings it back", async () => {
  const registry = memoryRegistry();
  await registry.register(svc(["n1"], ["n2"]));
  const blind = { ...registry, watch: () => { throw new Error("no watch here"); } };
  const selector = cacheSelector({ registry: blind, ejectionTime: 30, dropAfter: 1, cacheTtl: 1 });
  await fail(selector, refused()); // dropped at once
  await sleep(60);
  assert.ok(!ids(await picks(selector, 40)).has("n1"));
  await registry.register(svc(["n1", "n1:2"]));
  await eventually(async () => ids(await picks(selector, 30)).has("n1"), "n1 back at its new address");
  await selector.close();
  await registry.close();
});

test("every node out of rotation: calls still try them rather than fail without trying", async () => {
  const { selector, close } = await setup({ ejectionTime: 60_000 });
  for (const id of ["n1", "n2", "n3"]) {
    for (;;) {
      const s = await selector.pick!("greeter");
      if (s.node.id === id) {
        s.done(timeout());
        break;
      }
      s.done();
    }
  }
  assert.equal(ids(await picks(selector, 60)).size, 3);
  await close();
});

test("leastConn avoids nodes with calls in flight; a stalled node (calls out, none answered) is picked last", async () => {
  const { selector, close } = await setup({ strategy: leastConn, stallTime: 50 });
  const held = await picks(selector, 3, true);
  assert.equal(ids(held).size, 3, "three calls in flight spread over the three nodes");
  const n1 = held.find((s) => s.node.id === "n1")!;
  for (const s of held) if (s !== n1) s.done();
  for (let i = 0; i < 20; i++) assert.notEqual((await picks(selector, 1))[0]!.node.id, "n1", "n1 has a call in flight");
  // n1 holds its call past the stall time; n2 and n3 then get more calls in flight than n1 but are not stalled.
  await sleep(70);
  const busy = await picks(selector, 6, true);
  assert.ok(!ids(busy).has("n1"), "a stalled node is avoided even with fewer calls in flight");
  const next = (await picks(selector, 1, true))[0]!;
  assert.notEqual(next.node.id, "n1");
  n1.done();
  for (const s of [...busy, next]) s.done();
  assert.ok(ids(await picks(selector, 30)).has("n1"), "answered: no longer stalled");
  await close();
});

test("latency prefers the faster node", async () => {
  const { selector, close } = await setup({ strategy: latency });
  // Teach it: n1 answers in ~40 ms, the others at once.
  for (let i = 0; i < 30; i++) {
    const s = (await picks(selector, 1, true))[0]!;
    if (s.node.id === "n1") await realSleep(40); // latency is measured with performance.now(), not the mocked clock
    s.done();
  }
  const counts = new Map<string, number>();
  for (const s of await picks(selector, 60)) counts.set(s.node.id, (counts.get(s.node.id) ?? 0) + 1);
  assert.ok((counts.get("n1") ?? 0) < 5, `n1 (slow) picked ${counts.get("n1") ?? 0} of 60`);
  await close();
});

test("bad options are a 400 naming the option", () => {
  const registry = memoryRegistry();
  assert.throws(() => cacheSelector({ registry, ejectionTime: 0 }), (e: unknown) => e instanceof MicroError && e.code === 400 && /ejectionTime/.test(e.detail));
  assert.throws(() => cacheSelector({ registry, dropAfter: -1 }), (e: unknown) => e instanceof MicroError && /dropAfter/.test(e.detail));
});
