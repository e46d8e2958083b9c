/** The in-process broker: fan-out, queue groups, unsubscribe, handler errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import type { BrokerEvent } from "../../../src/runtime/broker/index.js";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { setRootLogger } from "../../../src/runtime/logger/index.js";

setRootLogger(pino({ level: "silent" }));
const msg = (text: string) => ({ header: { "Content-Type": "text/plain", id: text }, body: new TextEncoder().encode(text) });

test("every plain subscriber gets each message once; other topics get nothing", async () => {
  const broker = memoryBroker();
  await broker.connect();
  const a: string[] = [];
  const b: string[] = [];
  const other: string[] = [];
  await broker.subscribe("events", (e) => void a.push(new TextDecoder().decode(e.message.body)));
  await broker.subscribe("events", (e: BrokerEvent) => void b.push(`${e.topic}:${e.message.header.id}`));
  await broker.subscribe("other", (e) => void other.push(e.topic));
  for (let i = 0; i < 5; i++) await broker.publish("events", msg(`m${i}`));
  assert.deepEqual(a, ["m0", "m1", "m2", "m3", "m4"]);
  assert.deepEqual(b, ["events:m0", "events:m1", "events:m2", "events:m3", "events:m4"]);
  assert.deepEqual(other, []);
  await broker.publish("nobody-listens", msg("x")); // no subscribers: dropped, no error
  await broker.disconnect();
});

test("a queue group gets each message exactly once, spread over its members", async () => {
  const broker = memoryBroker();
  const got = new Map<string, string[]>();
  const plain: string[] = [];
  for (const member of ["w1", "w2", "w3"]) {
    got.set(member, []);
    await broker.subscribe("jobs", (e) => void got.get(member)!.push(new TextDecoder().decode(e.message.body)), { queue: "workers" });
  }
  const audit = await broker.subscribe("jobs", (e) => void plain.push(new TextDecoder().decode(e.message.body)));
  for (let i = 0; i < 30; i++) await broker.publish("jobs", msg(`j${i}`));
  const all = [...got.values()].flat().sort();
  assert.equal(all.length, 30);
  assert.equal(new Set(all).size, 30, "no message went to two members");
  for (const [member, list] of got) assert.ok(list.length > 0, `${member} got a share`);
  assert.equal(plain.length, 30, "a plain subscriber beside the group still gets everything");
  await audit.unsubscribe();
  await broker.publish("jobs", msg("after"));
  assert.equal(plain.length, 30, "nothing after unsubscribe");
});

test("a handler error reaches the publisher after the others were delivered", async () => {
  const broker = memoryBroker();
  const ok: string[] = [];
  await broker.subscribe("t", () => {
    throw new Error("cannot handle");
  });
  await broker.subscribe("t", (e) => void ok.push(e.topic));
  await assert.rejects(broker.publish("t", msg("x")), (e: unknown) => e instanceof MicroError && e.code === 500 && /cannot handle/.test(e.detail));
  assert.deepEqual(ok, ["t"]);
  await assert.rejects(broker.publish("", msg("x")), /non-empty/);
});
