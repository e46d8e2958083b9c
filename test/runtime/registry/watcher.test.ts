/** The one watcher queue of the registries (memory, local, etcd): ordering, filter, stop, abort, and ending with an error. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createWatcher } from "../../../src/runtime/registry/watcher.js";
import type { RegistryEvent } from "../../../src/runtime/registry/index.js";

const ev = (name: string, action: RegistryEvent["action"] = "create"): RegistryEvent => ({ action, service: { name, version: "1", endpoints: [], nodes: [] } });

test("queued and waiting events arrive in order, filtered by service", async () => {
  let stops = 0;
  const feed = createWatcher({ service: "a" }, () => stops++);
  feed.push(ev("a"));
  feed.push(ev("b"));
  const it = feed.watcher[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.service.name, "a");
  const pending = it.next();
  feed.push(ev("a", "delete"));
  assert.equal((await pending).value?.action, "delete");
  feed.watcher.stop();
  feed.watcher.stop();
  assert.equal((await it.next()).done, true);
  assert.equal(stops, 1, "onStop runs once");
  feed.push(ev("a"));
  assert.equal((await it.next()).done, true, "nothing after stop");
});

test("an aborted signal ends the watch, also when aborted before it started", async () => {
  const controller = new AbortController();
  const feed = createWatcher({ signal: controller.signal }, () => undefined);
  const ended = (async () => {
    for await (const _ of feed.watcher) assert.fail("no events were pushed");
    return "ended";
  })();
  controller.abort();
  assert.equal(await ended, "ended");
  const early = createWatcher({ signal: AbortSignal.abort() }, () => undefined);
  for await (const _ of early.watcher) assert.fail("already aborted");
});

test("ending with an error throws it in the consumer's loop once, after the queued events", async () => {
  const feed = createWatcher(undefined, () => undefined);
  feed.push(ev("x"));
  feed.end(new Error("registry gone"));
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of feed.watcher) seen.push(e.service.name);
    })(),
    /registry gone/,
  );
  assert.deepEqual(seen, ["x"]);
  const it = feed.watcher[Symbol.asyncIterator]();
  assert.equal((await it.next()).done, true);
});

test("breaking out of the loop stops the watch", async () => {
  let stopped = false;
  const feed = createWatcher(undefined, () => (stopped = true));
  feed.push(ev("x"));
  for await (const _ of feed.watcher) break;
  assert.equal(stopped, true);
  assert.equal(feed.stopped, true);
});

test("stop() and abort drop the queued events; the registry's end() delivers them first", async () => {
  const stopped = createWatcher(undefined, () => undefined);
  stopped.push(ev("x"));
  stopped.watcher.stop();
  for await (const _ of stopped.watcher) assert.fail("a stopped watch yields nothing more");
  const controller = new AbortController();
  const aborted = createWatcher({ signal: controller.signal }, () => undefined);
  aborted.push(ev("x"));
  controller.abort();
  for await (const _ of aborted.watcher) assert.fail("an aborted watch yields nothing more");
  const ended = createWatcher(undefined, () => undefined);
  ended.push(ev("x"));
  ended.end();
  const seen: string[] = [];
  for await (const e of ended.watcher) seen.push(e.service.name);
  assert.deepEqual(seen, ["x"]);
});
