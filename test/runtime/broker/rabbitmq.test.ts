/**
 * What only the RabbitMQ broker does, against one real rabbitmq-server shared by the file: a queue group's
 * durable queue keeps messages while every member is down, a throwing handler's message is redelivered up to
 * the bound and then dead-lettered, and a RabbitMQ restart during confirmed publishing loses nothing
 * acknowledged while subscriptions come back by themselves. What every broker does is in contract.test.ts.
 */
// First: quiets the runtime before it is loaded.
import { startRabbitMQ, type TestServer } from "../../support/servers.js";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "amqplib";
import type { Broker, BrokerEvent, BrokerMessage } from "../../../src/runtime/broker/index.js";
import { rabbitmqBroker, type RabbitBrokerOptions } from "../../../src/runtime/broker/rabbitmq/index.js";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { captureLogs } from "./fixtures/logs.js";
import { eventually } from "../registry/fixtures/child.js";

const warnings = captureLogs("warn");

let server: TestServer;
const brokers: Broker[] = [];

before(async () => {
  server = await startRabbitMQ();
});

after(async () => {
  await Promise.all(brokers.map((b) => b.disconnect().catch((e: unknown) => console.error("disconnect failed", e))));
  await server?.dispose();
});

async function open(options: RabbitBrokerOptions = {}): Promise<Broker> {
  const broker = rabbitmqBroker({ address: server.address, timeout: 5000, maxReconnectWait: 300, ...options });
  brokers.push(broker);
  await broker.connect();
  return broker;
}

const text = (s: string, header: Record<string, string> = {}): BrokerMessage => ({ header: { "Content-Type": "text/plain", ...header }, body: new TextEncoder().encode(s) });
const str = (e: BrokerEvent) => new TextDecoder().decode(e.message.body);

/** Polls `check` until it holds, failing after `ms` (20 s by default: RabbitMQ on a loaded machine). */
const until = (check: () => boolean, what: string, ms = 20_000) => eventually(check, what, ms);

test("a queue group's durable queue keeps what is published while every member is down", async () => {
  const publisher = await open();
  const first = await open();
  const got: string[] = [];
  const sub = await first.subscribe("orders.created", (e) => void got.push(str(e)), { queue: "billing" });
  await publisher.publish("orders.created", text("o1"));
  await until(() => got.length === 1, "the first message");
  await sub.unsubscribe();
  for (const s of ["o2", "o3"]) await publisher.publish("orders.created", text(s));
  const later = await open();
  await later.subscribe("orders.created", (e) => void got.push(str(e)), { queue: "billing" });
  await until(() => got.length === 3, "the messages published while the group was down");
  assert.deepEqual(got, ["o1", "o2", "o3"]);
});

test("a throwing handler's message is redelivered (to any member) up to maxRedeliveries, then dead-lettered with its topic and the reason", async () => {
  // What lands on the dead-letter exchange, read with a plain AMQP client.
  const conn = await connect(server.address);
  try {
    const ch = await conn.createChannel();
    await ch.assertExchange("micro.dead-letter", "topic", { durable: true });
    const { queue } = await ch.assertQueue("", { exclusive: true });
    await ch.bindQueue(queue, "micro.dead-letter", "#");
    const dead: { key: string; body: string; headers: Record<string, unknown> }[] = [];
    await ch.consume(queue, (m) => m && dead.push({ key: m.fields.routingKey, body: m.content.toString(), headers: m.properties.headers ?? {} }), { noAck: true });

    const publisher = await open();
    const worker = await open({ maxRedeliveries: 3 });
    const attempts: { body: string; header: Record<string, string> }[] = [];
    await worker.subscribe(
      "payments.charge",
      (e) => {
        attempts.push({ body: str(e), header: { ...e.message.header } });
        if (str(e) === "poison") throw new Error("card declined");
      },
      { queue: "payers" },
    );
    await publisher.publish("payments.charge", text("poison", { "X-Order": "42" }));
    await publisher.publish("payments.charge", text("fine"));
    await until(() => dead.length === 1, "the poison message on the dead-letter exchange");
    const poison = attempts.filter((a) => a.body === "poison");
    assert.equal(poison.length, 4, "the first delivery and 3 redeliveries");
    for (const a of poison) assert.deepEqual(a.header, { "Content-Type": "text/plain", "X-Order": "42" }, "every attempt sees the header as sent, no broker keys");
    assert.ok(attempts.some((a) => a.body === "fine"), "other messages flow meanwhile");
    assert.equal(dead[0]!.key, "payments.charge");
    assert.equal(dead[0]!.body, "poison");
    assert.equal(dead[0]!.headers["X-Order"], "42");
    assert.match(String(dead[0]!.headers["x-micro-error"]), /card declined/);
    assert.ok(warnings.some((w) => w.topic === "payments.charge" && /queued again \(redelivery 1 of 3\)/.test(w.msg)), "the redelivery is logged");

    // onError "dead-letter": no redelivery at all.
    const strict = await open({ onError: "dead-letter" });
    let tries = 0;
    await strict.subscribe("payments.refund", () => {
      tries++;
      throw new Error("refund refused");
    });
    await publisher.publish("payments.refund", text("r1"));
    await until(() => dead.length === 2, "the refund on the dead-letter exchange");
    assert.equal(tries, 1);
    assert.equal(dead[1]!.key, "payments.refund");
  } finally {
    await conn.close();
  }
});

test("bad options and names are 400s of micro.broker.rabbitmq", async () => {
  const bad = (f: () => unknown, why: RegExp) => assert.throws(f, (e: unknown) => e instanceof MicroError && e.code === 400 && e.id === "micro.broker.rabbitmq" && why.test(e.detail));
  bad(() => rabbitmqBroker({ onError: "drop" as never }), /onError must be "requeue" or "dead-letter"/);
  bad(() => rabbitmqBroker({ maxRedeliveries: -1 }), /maxRedeliveries/);
  bad(() => rabbitmqBroker({ prefetch: 1.5 }), /prefetch/);
  bad(() => rabbitmqBroker({ exchange: "amq.topic" }), /reserved/);
  bad(() => rabbitmqBroker({ address: "127.0.0.1" }), /use host:port or amqp:\/\/host:port/);
  bad(() => rabbitmqBroker({ pass: "secret", user: undefined }), /password was given without a user/);
  const broker = await open();
  await assert.rejects(broker.publish("t".repeat(300), text("x")), (e: unknown) => e instanceof MicroError && e.code === 400 && /routing key/.test(e.detail));
  await assert.rejects(broker.publish("ok.topic", text("x", { "x-micro-topic": "other" })), (e: unknown) => e instanceof MicroError && e.code === 400 && /reserved/.test(e.detail));
  await assert.rejects(broker.subscribe("ok.topic", () => {}, { queue: "g".repeat(300) }), (e: unknown) => e instanceof MicroError && e.code === 400 && /exceeds 255 bytes/.test(e.detail));
});

test("an unreachable server is a 503 naming it and saying what to do", async () => {
  const broker = rabbitmqBroker({ address: "127.0.0.1:1", timeout: 2000 });
  await assert.rejects(broker.connect(), (e: unknown) => e instanceof MicroError && e.code === 503 && /cannot connect to RabbitMQ at amqp:\/\/127\.0\.0\.1:1/.test(e.detail) && /Start rabbitmq-server/.test(e.detail));
  await broker.disconnect();
});

test("a RabbitMQ restart during confirmed publishing: nothing acknowledged is lost, publishes in the outage fail with a 503, subscriptions come back", async () => {
  const publisher = await open({ timeout: 3000 });
  const subscriber = await open();
  const received = new Set<string>();
  await subscriber.subscribe("ledger.entry", (e) => void received.add(str(e)), { queue: "ledger" });
  const plain: string[] = [];
  await subscriber.subscribe("ledger.entry", (e) => void plain.push(str(e)));

  const acknowledged: string[] = [];
  const failures: MicroError[] = [];
  let stopPublishing = false;
  const publishing = (async () => {
    for (let i = 0; !stopPublishing; i++) {
      try {
        await publisher.publish("ledger.entry", text(`e${i}`));
        acknowledged.push(`e${i}`);
      } catch (error) {
        assert.ok(error instanceof MicroError && error.code === 503, String(error));
        failures.push(error);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  await until(() => acknowledged.length >= 50, "publishing under way");
  await server.stop("SIGTERM", 30_000);
  const beforeRestart = acknowledged.length;
  await until(() => failures.length >= 1, "a publish to fail while RabbitMQ is down");
  await server.start();
  await until(() => acknowledged.length >= beforeRestart + 50, "publishing to resume after the restart", 60_000);
  stopPublishing = true;
  await publishing;

  await until(() => acknowledged.every((m) => received.has(m)), "every acknowledged message at the queue group", 30_000);
  const lost = acknowledged.filter((m) => !received.has(m));
  console.log(`rabbitmq restart: ${acknowledged.length} acknowledged, ${lost.length} lost, ${failures.length} publishes refused during the outage`);
  assert.deepEqual(lost, []);
  assert.match(failures[0]!.detail, /RabbitMQ broker could not publish to "ledger\.entry"/);
  // The plain subscription was restored on the new connection: it gets what is published after the restart.
  await publisher.publish("ledger.entry", text("after-restart"));
  await until(() => plain.includes("after-restart"), "the plain subscriber after the restart");
});
