/**
 * The local registry across real processes sharing one directory: concurrent writers, a SIGKILLed process
 * whose nodes expire, and files it must survive (corrupted, foreign, missing directory).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localRegistry } from "../../../src/runtime/registry/local/index.js";
import { escapeName } from "../../../src/runtime/registry/local/files.js";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { eventually, killChildren, startChild } from "./fixtures/child.js";
import { is, readEvents } from "./fixtures/events.js";
import { setRootLogger } from "../../../src/runtime/logger/index.js";
import { pino } from "pino";

setRootLogger(pino({ level: "silent" })); // the corrupted-file warnings are expected

const REGISTER = new URL("./fixtures/register.js", import.meta.url);
const dirs: string[] = [];

after(async () => {
  await killChildren();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "micro-ts-local-test-"));
  dirs.push(dir);
  return dir;
}

test("4 processes × 25 nodes registering at once: all visible, no corrupted file", async () => {
  const dir = await tempDir();
  const registry = localRegistry({ address: dir });
  // They keep running: a record whose process is gone is dropped at once.
  const children = [0, 1, 2, 3].map((p) => startChild(REGISTER, [dir, "crowd", "25", `p${p}`, "60", "heartbeat"]));
  await Promise.all(children.map((c) => c.line((l) => l === "registered")));
  const [svc] = await registry.getService("crowd");
  assert.equal(svc.nodes.length, 100);
  assert.deepEqual(
    new Set(svc.nodes.map((n) => n.id)),
    new Set([0, 1, 2, 3].flatMap((p) => Array.from({ length: 25 }, (_, i) => `p${p}-${i}`))),
  );
  const files = await readdir(join(dir, "crowd"));
  assert.equal(files.length, 100, `only node files remain, no temporary ones: ${files.filter((f) => !f.endsWith(".json"))}`);
  await Promise.all(children.map((c) => c.kill()));
  await registry.close();
});

test("a SIGKILLed process leaves the registry once its TTL passes", async () => {
  const dir = await tempDir();
  const registry = localRegistry({ address: dir, pollInterval: 250 });
  const events = readEvents(registry.watch({ service: "mortal" }));
  const survivor = startChild(REGISTER, [dir, "mortal", "1", "survivor", "1", "heartbeat"]);
  const victim = startChild(REGISTER, [dir, "mortal", "2", "victim", "1", "heartbeat"]);
  await Promise.all([survivor.line((l) => l === "registered"), victim.line((l) => l === "registered")]);
  await events.next(is("create", "mortal", "victim-0"), "create of the victim's nodes");
  assert.equal((await registry.getService("mortal"))[0].nodes.length, 3);

  await victim.kill();
  await events.next(is("delete", "mortal", "victim-0"), "delete of a killed node after its TTL");
  await eventually(async () => (await registry.getService("mortal"))[0]?.nodes.length === 1, "only the survivor left");
  assert.deepEqual((await registry.getService("mortal"))[0].nodes.map((n) => n.id), ["survivor-0"]);
  assert.ok(!events.seen.some(is("delete", "mortal", "survivor-0")), "the heartbeating survivor never expired");
  await eventually(async () => (await readdir(join(dir, "mortal"))).length === 1, "the expired files removed");
  await survivor.kill();
  await registry.close();
});

test("corrupted and foreign files are skipped; a missing directory is an empty registry", async () => {
  const dir = await tempDir();
  const missing = localRegistry({ address: join(dir, "does", "not", "exist") });
  assert.deepEqual(await missing.listServices(), []);
  assert.deepEqual(await missing.getService("x"), []);
  await missing.close();

  const registry = localRegistry({ address: dir });
  await registry.register({ name: "ok", version: "1", endpoints: [], nodes: [{ id: "n1", address: "h:1", metadata: {} }] });
  const serviceDir = join(dir, escapeName("ok"));
  await writeFile(join(serviceDir, "1@broken.json"), '{"format":1,"name":"ok","vers');
  await writeFile(join(serviceDir, "1@alien.json"), JSON.stringify({ hello: "world" }));
  await writeFile(join(serviceDir, "README.txt"), "not a node");
  await mkdir(join(dir, "empty-service"));
  const [svc] = await registry.getService("ok");
  assert.deepEqual(svc.nodes.map((n) => n.id), ["n1"]);
  assert.deepEqual((await registry.listServices()).map((s) => s.name), ["ok"]);
  await registry.close();
});

test("names that are not file names are stored safely", () => {
  assert.equal(escapeName("greeter"), "greeter");
  assert.equal(escapeName("a.b/c@d"), "a%2Eb%2Fc%40d");
  assert.equal(escapeName(".."), "%2E%2E");
  assert.ok(escapeName("x".repeat(1000)).length < 120);
  assert.notEqual(escapeName("x".repeat(1000)), escapeName("x".repeat(1001)));
});

test("a bad address is a clear error: a network address, or a directory that cannot be written", async () => {
  assert.throws(() => localRegistry({ address: "127.0.0.1:2379" }), /a directory, not a network address/);
  const dir = await tempDir();
  await writeFile(join(dir, "a-file"), "");
  const registry = localRegistry({ address: join(dir, "a-file", "registry") });
  await assert.rejects(
    registry.register({ name: "x", version: "1", endpoints: [], nodes: [{ id: "n", address: "h:1", metadata: {} }] }),
    (e: unknown) => e instanceof MicroError && e.code === 503 && /not writable \(ENOTDIR\)/.test(e.detail),
  );
  await registry.close();
});

test("without fs.watch, the periodic rescan still reports another process's changes", async () => {
  const dir = await tempDir();
  const registry = localRegistry({ address: dir, pollInterval: 100, fsWatch: false });
  const events = readEvents(registry.watch());
  const child = startChild(REGISTER, [dir, "polled", "2", "c", "1", "heartbeat"]);
  await child.line((l) => l === "registered");
  for (const action of ["create", "delete"] as const) {
    // The two nodes may land in one scan or in two: wait for each.
    for (const id of ["c-0", "c-1"]) {
      await eventually(() => events.seen.some(is(action, "polled", id)), `${action} of ${id} seen by polling`);
    }
    if (action === "create") await child.kill(); // its records leave with it
  }
  await registry.close();
});
