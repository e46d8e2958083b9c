/**
 * What only the direct broker does, across real processes: subscribers are child processes on one local
 * registry directory, the publisher is this test (fail-over within a queue group, expiry of a killed
 * subscriber, unreachable subscribers, registration and the disconnect race). What every broker does is in
 * contract.test.ts.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { directBroker } from "../../../src/runtime/broker/direct/index.js";
import type { Broker } from "../../../src/runtime/broker/index.js";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { localRegistry } from "../../../src/runtime/registry/local/index.js";
import type { Registry } from "../../../src/runtime/registry/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { captureLogs } from "./fixtures/logs.js";
import { eventually, killChildren, startChild, type Child } from "../registry/fixtures/child.js";
import { is, readEvents } from "../registry/fixtures/events.js";

const SUBSCRIBER = new URL("./fixtures/subscriber.js", import.meta.url);
const TTL = 1; // seconds: killed subscribers expire quickly

/** What the publisher logs (down to debug: a repeated unreachable subscriber is logged at debug), to check what it tried. */
const warnings = captureLogs("debug");

let dir: string;
let registry: Registry;
let publisher: Broker;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "micro-ts-broker-test-"));
  registry = localRegistry({ address: dir, pollInterval: 250 });
  publisher = directBroker({ registry, transport: tcpTransport(), ttl: TTL });
  await publisher.connect();
});

after(async () => {
  await killChildren();
  await publisher?.disconnect();
  await registry?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const text = (s: string) => ({ header: { "Content-Type": "text/plain", "X-Seq": s }, body: new TextEncoder().encode(s) });
const got = (child: Child, topic: string) => child.lines.filter((l) => l.startsWith(`got ${topic} `)).map((l) => l.split(" ")[2]);

/** Wait (bounded) until the children's output satisfies `enough`; the assertions after it say what was wrong. */
async function lines(enough: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !enough(); i++) await new Promise((r) => setTimeout(r, 10));
}

async function subscribers(topic: string, queue: string, n: number): Promise<Child[]> {
  const children = Array.from({ length: n }, () => startChild(SUBSCRIBER, [dir, topic, queue, String(TTL)]));
  await Promise.all(children.map((c) => c.line((l) => l.startsWith("subscribed "))));
  return children;
}

test("a queue group gets each message exactly once; a killed member's share fails over, and after expiry it is not tried", async () => {
  const members = await subscribers("jobs", "workers", 3);
  const [audit] = await subscribers("jobs", "-", 1);
  const watch = readEvents(registry.watch({ service: "micro.broker.jobs" }));
  const first = Array.from({ length: 30 }, (_, i) => `a${i}`);
  for (const s of first) await publisher.publish("jobs", text(s));
  // publish resolves when the handlers ran; their stdout lines may reach this process a little later.
  await lines(() => [...members, audit].flatMap((m) => got(m, "jobs")).length >= first.length * 2);
  const shares = members.map((m) => got(m, "jobs"));
  assert.deepEqual(shares.flat().sort(), [...first].sort(), "each message reached exactly one member");
  assert.ok(shares.filter((s) => s.length > 0).length >= 2, `spread over members: ${shares.map((s) => s.length)}`);
  assert.deepEqual(got(audit, "jobs"), first, "the plain subscriber beside the group got everything");

  // Kill one member: until its registration expires, deliveries to it fail over to another member.
  const [victim, ...rest] = members;
  const victimNode = (await registry.getService("micro.broker.jobs"))[0].nodes.find((n) => n.address === victim.lines[0].split(" ")[1])!;
  await victim.kill();
  const second = Array.from({ length: 10 }, (_, i) => `b${i}`);
  for (const s of second) await publisher.publish("jobs", text(s));
  await lines(() => rest.flatMap((m) => got(m, "jobs")).filter((s) => s.startsWith("b")).length >= second.length);
  assert.deepEqual(rest.flatMap((m) => got(m, "jobs")).filter((s) => s.startsWith("b")).sort(), [...second].sort(), "no message lost with a dead member");

  // After its TTL the dead member leaves the registry, and the publisher stops trying it.
  await watch.next(is("delete", "micro.broker.jobs", victimNode.id), "expiry of the killed subscriber", 15_000);
  await eventually(async () => !(await registry.getService("micro.broker.jobs"))[0].nodes.some((n) => n.id === victimNode.id), "gone from lookups");
  warnings.length = 0;
  const third = Array.from({ length: 10 }, (_, i) => `c${i}`);
  for (const s of third) await publisher.publish("jobs", text(s));
  await lines(() => rest.flatMap((m) => got(m, "jobs")).filter((s) => s.startsWith("c")).length >= third.length);
  assert.deepEqual(rest.flatMap((m) => got(m, "jobs")).filter((s) => s.startsWith("c")).sort(), [...third].sort());
  assert.deepEqual(
    warnings.filter((w) => w.subscription === victimNode.id),
    [],
    "no delivery was attempted to the expired subscriber",
  );
  await Promise.all([...rest, audit].map((c) => c.kill()));
});

test("an unreachable subscriber is skipped with a warning; publish still resolves and reaches the others", async () => {
  const [live] = await subscribers("mixed", "-", 1);
  // A registration left by a process that is gone: nothing listens on its address.
  const ghost = { id: "ghost-1", address: "127.0.0.1:1", metadata: { broker: "direct", topic: "mixed", queue: "" } };
  await registry.register({ name: "micro.broker.mixed", version: "latest", endpoints: [], nodes: [ghost] }, { ttl: 30 });
  warnings.length = 0;
  await publisher.publish("mixed", text("m1"));
  await live.line((l) => l.startsWith("got mixed m1"));
  assert.ok(warnings.some((w) => w.subscription === "ghost-1" && /unreachable/.test(w.msg)), "the skipped subscriber was logged");
  await registry.deregister({ name: "micro.broker.mixed", version: "latest", endpoints: [], nodes: [ghost] });
  await live.kill();
});

test("in one process: subscribe, deliver, unsubscribe", async () => {
  const broker = directBroker({ registry, transport: tcpTransport(), ttl: 30 });
  const seen: string[] = [];
  const sub = await broker.subscribe("local", (e) => void seen.push(new TextDecoder().decode(e.message.body)));
  assert.match(broker.address, /^127\.0\.0\.1:\d+$/);
  await publisher.publish("local", text("one"));
  assert.deepEqual(seen, ["one"]);
  await sub.unsubscribe();
  await eventually(async () => (await registry.getService("micro.broker.local")).length === 0, "deregistered");
  await publisher.publish("local", text("two"));
  assert.deepEqual(seen, ["one"]);
  await broker.disconnect();
});

test("a subscribe still in progress when the broker disconnects fails with a clear error and leaves no listener or registration behind", async () => {
  const broker = directBroker({ registry, transport: tcpTransport(), ttl: 30 });
  const pending = broker.subscribe("race", () => undefined);
  await broker.disconnect();
  await assert.rejects(pending, (e: unknown) => e instanceof MicroError && e.code === 503 && /disconnected before the subscription was made/.test(e.detail));
  assert.equal(broker.address, "", "no delivery listener left open");
  assert.deepEqual(await registry.getService("micro.broker.race"), [], "no subscription left registered");
});
