/**
 * The local registry's self-healing and process checks, and the cache's stale-on-vanish grace: a registry
 * writes back its own records when they vanish (directory removed, garbage), readers drop the record of a
 * dead process of this host at once, and a cache bridges vanished nodes for a bounded grace while a plain
 * deregistration drops them at once.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rename, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { RegistryEvent, ServiceRecord } from "../../../src/runtime/registry/index.js";
import { localRegistry } from "../../../src/runtime/registry/local/index.js";
import { nodeFile } from "../../../src/runtime/registry/local/files.js";
import { thisOwner } from "../../../src/runtime/registry/local/owner.js";
import { cachedRegistry } from "../../../src/runtime/registry/cache.js";
import { setRootLogger } from "../../../src/runtime/logger/index.js";
import { pino } from "pino";
import { eventually } from "./fixtures/child.js";

setRootLogger(pino({ level: "silent" }));

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "micro-ts-healing-test-"));
  dirs.push(dir);
  return dir;
}

const svc = (...ids: string[]): ServiceRecord => ({ name: "healed", version: "1", endpoints: [], nodes: ids.map((id) => ({ id, address: `${id}:1`, metadata: {} })) });
const ids = (services: readonly ServiceRecord[]): string[] => services.flatMap((s) => s.nodes.map((n) => n.id)).sort();

test("a registry writes its own records back when the directory is removed or a file turns to garbage, and recreates the directory", async () => {
  const dir = await tempDir();
  const owner = localRegistry({ address: dir, pollInterval: 100 });
  const reader = localRegistry({ address: dir });
  await owner.register(svc("a", "b"), { ttl: 60 });
  const file = nodeFile(dir, "healed", "1", "a");
  const stored = JSON.parse(await readFile(file, "utf8"));
  assert.deepEqual({ pid: stored.pid, host: stored.host }, thisOwner(), "the record names its process and host");

  await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 5 }).catch(() => undefined); // the owner may be rewriting already
  await eventually(async () => ids(await reader.getService("healed")).join() === "a,b", "records written back after rm -rf");
  await writeFile(file, "garbage");
  await eventually(async () => ids(await reader.getService("healed")).join() === "a,b", "record written back after garbage");

  // A deregistered record is not healed.
  await owner.deregister(svc("a"));
  await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 5 }).catch(() => undefined);
  await eventually(async () => ids(await reader.getService("healed")).join() === "b", "only the still registered record comes back");
  await owner.close();
  await reader.close();
});

test("watches mark deletes by loss as vanished, deregistrations as plain deletes", async () => {
  const dir = await tempDir();
  const owner = localRegistry({ address: dir });
  const watcher = localRegistry({ address: dir, pollInterval: 50 });
  await owner.register(svc("a"), { ttl: 60 });
  await owner.close(); // no healing: the loss stays visible
  const seen: RegistryEvent[] = [];
  const watch = watcher.watch({ service: "healed" });
  void (async () => {
    for await (const e of watch) seen.push(e);
  })();
  await watcher.getService("healed");
  await new Promise((r) => setTimeout(r, 100)); // the watch's first scan records what exists
  // Moved away in one step (an rm -rf that a busy machine interrupts can look like single deletions midway).
  await rename(dir, `${dir}.old`);
  dirs.push(`${dir}.old`);
  await eventually(() => seen.some((e) => e.action === "delete"), "a delete event");
  assert.equal(seen.find((e) => e.action === "delete")?.vanished, true);

  const again = localRegistry({ address: dir });
  await again.register(svc("b"), { ttl: 60 });
  await eventually(() => seen.some((e) => e.action === "create"), "a create event");
  await again.deregister(svc("b"));
  await eventually(() => seen.filter((e) => e.action === "delete").length === 2, "a second delete");
  assert.equal(seen.filter((e) => e.action === "delete")[1]?.vanished, undefined, "a deregistration is not a vanish");
  watch.stop();
  await again.close();
  await watcher.close();
});

test("a record whose process is gone on this host is dropped at once and its file removed; another host's is kept", async () => {
  const dir = await tempDir();
  const gone = spawnSync(process.execPath, ["-e", "0"]).pid!; // exited and reaped
  const registry = localRegistry({ address: dir });
  const write = async (id: string, owner: { pid: number; host: string }) => {
    const entry = { format: 1, name: "healed", version: "1", endpoints: [], node: { id, address: `${id}:1`, metadata: {} }, updated: Date.now(), expires: Date.now() + 60_000, ...owner };
    await mkdir(dirname(nodeFile(dir, "healed", "1", id)), { recursive: true });
    await writeFile(nodeFile(dir, "healed", "1", id), JSON.stringify(entry));
  };
  await write("dead", { pid: gone, host: thisOwner().host });
  await write("elsewhere", { pid: gone, host: "another-host" });
  assert.deepEqual(ids(await registry.getService("healed")), ["elsewhere"]);
  await eventually(async () => {
    try {
      await readFile(nodeFile(dir, "healed", "1", "dead"));
      return false;
    } catch {
      return true;
    }
  }, "the dead process's file removed");
  await registry.close();
});

test("the cache serves vanished nodes for its grace period, and drops a deregistered node at once", async () => {
  const dir = await tempDir();
  const GRACE = 2000;
  const cache = cachedRegistry(localRegistry({ address: dir, pollInterval: 50 }), { vanishGrace: GRACE });
  const owner = localRegistry({ address: dir });
  await owner.register(svc("a", "b"), { ttl: 60 });
  assert.deepEqual(ids(await cache.lookup("healed")), ["a", "b"]);
  await new Promise((r) => setTimeout(r, 100)); // the cache's watch is established

  await owner.deregister(svc("a"));
  await eventually(async () => ids(await cache.lookup("healed")).join() === "b", "a deregistration is applied at once");

  await owner.close(); // nobody writes b back
  const lost = Date.now();
  // The directory goes away in one step (as `rm -rf` of a whole tree looks to a scan that runs after it): a
  // scan in the middle of a slow removal would see single deletions instead, which are not a vanish.
  await rename(dir, `${dir}.gone`);
  await rm(`${dir}.gone`, { recursive: true, force: true });
  await new Promise((r) => setTimeout(r, 200)); // the vanish event has arrived
  const kept = ids(await cache.lookup("healed"));
  // Within the grace the vanished node is still served (the grace is long enough for a loaded machine).
  if (Date.now() - lost < GRACE) assert.deepEqual(kept, ["b"], "kept within the grace");
  await eventually(async () => (await cache.lookup("healed")).length === 0, "dropped after the grace");
  assert.ok(Date.now() - lost >= GRACE);
  await cache.close();
});
