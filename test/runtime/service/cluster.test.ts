/**
 * Two greeter nodes and a client in separate processes on one local registry: load spreads over both; a node
 * SIGKILLed mid-load costs no failed call (retries + node marking) and leaves the registry after its TTL;
 * SIGTERM deregisters first, drains the in-flight call and exits 0.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { localRegistry } from "../../../src/runtime/registry/local/index.js";
import { newService, type Registry, type Service } from "../../../src/index.js";
import { Greeter } from "../../fixtures/runtime/greeter.js";
import { startGreeter, tempRegistry, type Fixture } from "../../fixtures/runtime/harness.js";

const reg = tempRegistry();
const flags = ["--registry_address", reg.dir, "--register_ttl", "2", "--register_interval", "1"];
const nodes: Fixture[] = [];
let caller: Service;
let registry: Registry;
const hello = { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello };

before(() => {
  caller = newService({ name: "caller", argv: ["--registry_address", reg.dir], env: {} });
  caller.init();
  registry = localRegistry({ address: reg.dir, pollInterval: 100 });
});

after(async () => {
  await caller?.stop();
  await registry?.close();
  for (const n of nodes) n.kill();
  await Promise.all(nodes.map((n) => n.exited));
  reg.remove();
});

async function start(tag: string): Promise<{ node: Fixture; id: string; address: string }> {
  const r = await startGreeter(flags, { NODE_TAG: tag });
  nodes.push(r.node);
  return r;
}

/**
 * Resolves when the registry no longer lists node `id` of greeter. Checks on every watch event, and every
 * 250 ms as well: a change that lands before the watch's first scan is not reported as an event.
 */
async function waitGone(id: string): Promise<void> {
  const watcher = registry.watch({ service: "greeter" });
  const events = watcher[Symbol.asyncIterator]();
  const listed = async () => (await registry.getService("greeter")).some((s) => s.nodes.some((n) => n.id === id));
  try {
    let next = events.next();
    while (await listed()) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<"tick">((r) => (timer = setTimeout(() => r("tick"), 250)));
      const got = await Promise.race([next, tick]);
      clearTimeout(timer);
      // After the watch ends, only the ticks remain.
      if (got !== "tick") next = got.done ? new Promise<never>(() => {}) : events.next();
    }
  } finally {
    watcher.stop();
  }
}

test("calls spread over two nodes; a SIGKILLed node costs no failed call and expires with its TTL", async () => {
  const a = await start("a");
  await start("b");
  const client = caller.client();
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) seen.add((await client.call(hello, { name: "x" })).message.split(" from ")[1]!);
  assert.deepEqual([...seen].sort(), ["a", "b"]);

  // Load with 16 callers; kill node a once 100 calls have completed.
  const total = 600;
  let started = 0;
  let completed = 0;
  const failures: unknown[] = [];
  const byNode = new Map<string, number>();
  let killed = false;
  const worker = async () => {
    while (started < total) {
      started++;
      try {
        const rsp = await client.call(hello, { name: "load" });
        const tag = rsp.message.split(" from ")[1]!;
        byNode.set(tag, (byNode.get(tag) ?? 0) + 1);
      } catch (e) {
        failures.push(e);
      }
      completed++;
      if (completed === 100 && !killed) {
        killed = true;
        a.node.kill("SIGKILL");
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  assert.deepEqual(failures, [], "no call failed");
  assert.equal(completed, total);
  assert.ok((byNode.get("b") ?? 0) > 0 && (byNode.get("a") ?? 0) > 0, `both served: ${JSON.stringify([...byNode])}`);
  const exit = await a.node.exited;
  assert.equal(exit.signal, "SIGKILL");
  // Nobody deregistered it: it leaves the registry when its 2 s TTL runs out.
  await waitGone(a.id);
});

test("SIGTERM deregisters first, drains the in-flight call, and exits 0", async () => {
  const c = await start("c");
  const client = caller.client();
  const call = client.call(hello, { name: "sleep:1500" }, { address: c.address, metadata: { "x-test": "drain" }, retries: 0 });
  await c.node.waitFor((e) => e.event === "started" && e.name === "drain");
  const order: string[] = [];
  const gone = waitGone(c.id).then(() => order.push("deregistered"));
  c.node.kill("SIGTERM");
  const rsp = await call;
  order.push("call answered");
  assert.equal(rsp.message, "slept 1500 on c");
  await gone;
  assert.deepEqual(order, ["deregistered", "call answered"]);
  const exit = await c.node.exited;
  assert.equal(exit.code, 0, c.node.stderr);
  assert.ok(c.node.events.some((e) => e.event === "stopped"));
  assert.ok(!c.node.events.some((e) => e.event === "leak"), "nothing kept the process alive");
});
