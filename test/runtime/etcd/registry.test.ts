/**
 * What only the etcd registry does, against a real etcd on loopback: records shared between clients through
 * etcd, its own refusals, TTL expiry of a SIGKILLed node, failing promptly while etcd is down, recovering
 * (registration and watch) after it returns, and re-granting a lost lease. The behaviour every registry shares
 * (register/get/list/deregister, watch events, TTL expiry, bad records) is in test/runtime/registry/contract.test.ts,
 * which runs over etcd too.
 */
// First: quiets the runtime before it is loaded.
import { startEtcd, type TestServer } from "../../support/servers.js";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { cachedRegistry } from "../../../src/runtime/registry/cache.js";
import { etcdRegistry } from "../../../src/runtime/registry/etcd/index.js";
import type { Registry, RegistryEvent, ServiceRecord, Watcher } from "../../../src/runtime/registry/index.js";

function service(name: string, version: string, ...nodes: Array<[string, string]>): ServiceRecord {
  return {
    name,
    version,
    metadata: { owner: "test" },
    endpoints: [{ name: "Greeter.Hello", metadata: { stream: "unary" } }],
    nodes: nodes.map(([id, address]) => ({ id, address, metadata: { transport: "tcp" } })),
  };
}

/** The next event from `iterator` that matches, or a failure after `ms`. */
async function nextEvent(iterator: AsyncIterator<RegistryEvent>, match: (e: RegistryEvent) => boolean, ms: number, what: string): Promise<RegistryEvent> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no ${what} within ${ms} ms`);
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      iterator.next(),
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), left))),
    ]);
    clearTimeout(timer);
    if (result === "timeout") throw new Error(`no ${what} within ${ms} ms`);
    if (result.done) throw new Error(`watch ended before ${what}`);
    if (match(result.value)) return result.value;
  }
}

const nodeIds = (records: ServiceRecord[]) => records.flatMap((r) => r.nodes.map((n) => n.id)).sort();

describe("etcd registry (real etcd)", () => {
  let etcd: TestServer;
  const registries: Registry[] = [];
  const children: ChildProcess[] = [];
  const watchers: Watcher[] = [];
  const open = (timeout = 3000) => {
    const r = etcdRegistry({ address: etcd.address.replace("http://", ""), timeout, dialTimeout: 1000 });
    registries.push(r);
    return r;
  };

  before(async () => {
    etcd = await startEtcd();
  });

  after(async () => {
    for (const w of watchers) w.stop();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await Promise.all(registries.map((r) => r.close()));
    await etcd?.dispose();
  });

  it("keeps the records in etcd: a second client sees them, and the heartbeat's repeated registration changes nothing", async () => {
    const registry = open();
    assert.equal(registry.name, "etcd");
    await registry.register(service("shared", "1.0.0", ["s-1", "127.0.0.1:1001"]), { ttl: 30 });
    await registry.register(service("shared", "2.0.0", ["s-2", "127.0.0.1:1002"]), { ttl: 30 });
    await registry.register(service("other/svc", "1", ["o-1", "127.0.0.1:1004"]));

    // A second client sees the same records: they live in etcd, not in this process.
    const other = open();
    assert.deepEqual(nodeIds(await other.getService("shared")), ["s-1", "s-2"]);
    assert.deepEqual(nodeIds(await other.getService("other/svc")), ["o-1"]);

    // Registering again (the heartbeat, refreshing the lease) is idempotent.
    await registry.register(service("shared", "1.0.0", ["s-1", "127.0.0.1:1001"]), { ttl: 30 });
    assert.deepEqual(nodeIds(await other.getService("shared")), ["s-1", "s-2"]);

    await registry.deregister(service("shared", "1.0.0", ["s-1", "127.0.0.1:1001"]));
    assert.deepEqual(nodeIds(await other.getService("shared")), ["s-2"]);
    await registry.deregister(service("shared", "2.0.0", ["s-2", "127.0.0.1:1002"]));
    await registry.deregister(service("other/svc", "1", ["o-1", "127.0.0.1:1004"]));
    assert.deepEqual(await other.listServices(), []);
  });

  it("refuses a service without nodes and bad addresses; an unreachable etcd is a prompt 503 that says what to do", async () => {
    const registry = open();
    await assert.rejects(registry.register(service("empty", "1")), (e: unknown) => e instanceof MicroError && e.code === 400 && /without nodes/.test(e.detail));
    assert.throws(() => etcdRegistry({ address: "127.0.0.1:2379,," }), /empty entry/);
    assert.throws(() => etcdRegistry({ address: "grpc://x:1" }), /unsupported scheme/);
    // Nothing listens on port 1: the error names the address and says what to do.
    const nowhere = etcdRegistry({ address: "127.0.0.1:1", timeout: 1000 });
    try {
      await assert.rejects(nowhere.getService("any"), (e: unknown) => e instanceof MicroError && e.code === 503 && /at 127\.0\.0\.1:1: .*Is etcd running and reachable there\?/s.test(e.detail));
    } finally {
      await nowhere.close();
    }
  });

  it("a SIGKILLed node disappears within its TTL", async () => {
    const ttl = 2;
    const registry = open();
    const watcher = registry.watch({ service: "doomed" });
    watchers.push(watcher);
    const iterator = watcher[Symbol.asyncIterator]();

    const script = fileURLToPath(new URL("./node-process.js", import.meta.url));
    const child = spawn(process.execPath, [script, etcd.address, "doomed", "doomed-1", String(ttl)], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, MICRO_LOG_LEVEL: "silent" },
    });
    children.push(child);
    let out = "";
    const announced = new Promise<void>((resolve) =>
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("registered")) resolve();
      }),
    );
    await nextEvent(iterator, (e) => e.action === "create" && e.service.nodes[0]?.id === "doomed-1", 15_000, "registration of the child");
    assert.deepEqual(nodeIds(await registry.getService("doomed")), ["doomed-1"]);
    // The watch may see the registration before the child's stdout arrives: kill it only after its own word.
    await Promise.race([announced, once(child, "exit").then(() => assert.fail(`the child exited before announcing its registration: ${out}`))]);

    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    // TTL plus a margin for etcd's lease checker and scheduling on a busy machine.
    const event = await nextEvent(iterator, (e) => e.action === "delete", ttl * 1000 + 4000, "expiry of the killed node");
    assert.deepEqual(event.service.nodes.map((n) => n.id), ["doomed-1"]);
    assert.deepEqual(await registry.getService("doomed"), []);
    assert.match(out, /registered/);
  });

  it("fails promptly while etcd is down, and recovers registration and watch when it returns", async () => {
    const registry = open(1000);
    const watcher = registry.watch({ service: "phoenix" });
    watchers.push(watcher);
    const iterator = watcher[Symbol.asyncIterator]();
    const first = service("phoenix", "1", ["p-1", "127.0.0.1:3001"]);
    await registry.register(first, { ttl: 30 });
    await nextEvent(iterator, (e) => e.service.nodes[0]?.id === "p-1", 10_000, "create before the outage");

    await etcd.stop();
    // Every kind of call rejects (bounded by the 1 s timeout), with a MicroError naming the address.
    const down = (e: unknown) => e instanceof MicroError && e.code === 503 && e.detail.includes(etcd.address.replace("http://", ""));
    await assert.rejects(registry.getService("phoenix"), down);
    await assert.rejects(registry.listServices(), down);
    await assert.rejects(registry.register(first, { ttl: 30 }), down);

    await etcd.start();
    // The heartbeat resumes: the next register succeeds (the lease survived the restart with the data dir).
    await registry.register(first, { ttl: 30 });
    assert.deepEqual(nodeIds(await registry.getService("phoenix")), ["p-1"]);
    // The watch reconnected by itself and delivers new events.
    const second = service("phoenix", "1", ["p-2", "127.0.0.1:3002"]);
    await registry.register(second, { ttl: 30 });
    const event = await nextEvent(iterator, (e) => e.service.nodes[0]?.id === "p-2", 15_000, "create after the restart");
    assert.equal(event.action, "create");
    await registry.deregister(first);
    await registry.deregister(second);
  });

  it("through cachedRegistry, lookups keep answering while etcd is down", async () => {
    const registry = open(1000);
    // A 1 ms cache TTL: every lookup goes to etcd, so the answer during the outage is the cache's fallback.
    const cache = cachedRegistry(registry, { ttl: 1 });
    registries.push(cache);
    const record = service("steady", "1", ["s-1", "127.0.0.1:5001"]);
    await registry.register(record, { ttl: 30 });
    assert.deepEqual(nodeIds(await cache.getService("steady")), ["s-1"]);

    await etcd.stop();
    await assert.rejects(registry.getService("steady"), (e: unknown) => e instanceof MicroError && e.code === 503);
    assert.deepEqual(nodeIds(await cache.getService("steady")), ["s-1"], "served from the cache while etcd is down");

    await etcd.start();
    await registry.register(record, { ttl: 30 });
    const more = service("steady", "1", ["s-2", "127.0.0.1:5002"]);
    await registry.register(more, { ttl: 30 });
    assert.deepEqual(nodeIds(await cache.getService("steady")), ["s-1", "s-2"]);
    await registry.deregister(record);
    await registry.deregister(more);
  });

  it("re-grants a lease etcd no longer knows", async () => {
    const registry = open();
    const record = service("relet", "1", ["r-1", "127.0.0.1:4001"]);
    await registry.register(record, { ttl: 30 });
    // Simulate a lost lease: revoke every lease behind the registry's back (another client, as an operator would).
    const admin = (await import("etcd3")).Etcd3;
    const client = new admin({ hosts: etcd.address });
    try {
      const leases = await client.leaseClient.leaseLeases({});
      for (const { ID } of leases.leases) await client.leaseClient.leaseRevoke({ ID });
      assert.deepEqual(await registry.getService("relet"), []);
      await registry.register(record, { ttl: 30 });
      assert.deepEqual(nodeIds(await registry.getService("relet")), ["r-1"]);
    } finally {
      client.close();
    }
    await registry.deregister(record);
  });
});
