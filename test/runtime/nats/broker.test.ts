/**
 * What only the NATS broker does, against a real nats-server (JetStream on) on loopback: subject rules,
 * reconnect after a server restart, credentials, and durable at-least-once delivery (backlog while a
 * subscriber is down, redelivery after a thrown handler, no loss across a server restart). Fan-out, queue
 * groups, headers and bodies, and the common errors are in test/runtime/broker/contract.test.ts.
 */
// First: quiets the runtime before it is loaded.
import { freePort, startNats, type TestServer } from "../../support/servers.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Broker, BrokerEvent } from "../../../src/runtime/broker/index.js";
import { natsBroker, type NatsBrokerOptions } from "../../../src/runtime/broker/nats/index.js";
import { MicroError } from "../../../src/runtime/errors/index.js";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** Resolves when `check()` holds, checked after each event via `poke`; fails after `ms`. */
function waiter(ms: number, what: string) {
  let poke: () => void = () => {};
  const until = (check: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      poke = () => {
        if (check()) {
          clearTimeout(timer);
          resolve();
        }
      };
      poke();
    });
  return { until, poke: () => poke() };
}

describe("NATS broker (real nats-server)", () => {
  let nats: TestServer;
  const brokers: Broker[] = [];
  const open = (options: NatsBrokerOptions = {}) => {
    const broker = natsBroker({ address: nats.address, timeout: 2000, maxReconnectWait: 500, ...options });
    brokers.push(broker);
    return broker;
  };

  before(async () => {
    nats = await startNats();
  });

  after(async () => {
    await Promise.all(brokers.map((b) => b.disconnect().catch(() => {})));
    await nats?.dispose();
  });

  it("rejects what is not a NATS subject and an unreachable server with clear errors", async () => {
    const broker = open();
    await assert.rejects(broker.publish("orders.*", { header: {}, body: text("x") }), /wildcards/);
    await assert.rejects(broker.subscribe("has space", () => {}), /whitespace/);
    const nowhere = natsBroker({ address: `127.0.0.1:${await freePort()}`, timeout: 1000 });
    await assert.rejects(nowhere.connect(), (e: unknown) => e instanceof MicroError && e.code === 503 && /cannot connect to NATS/.test(e.detail));
    assert.throws(() => natsBroker({ address: "http://x:1" }), /unsupported scheme/);
  });

  it("durable: messages published while the subscriber is down arrive when it returns", async () => {
    const publisher = open({ durable: true, stream: "BACKLOG" });
    const first = open({ durable: true, stream: "BACKLOG", name: "billing" });
    const seen: string[] = [];
    const one = waiter(10_000, "the first message");
    const sub = await first.subscribe("orders.created", (e) => void (seen.push(str(e.message.body)), one.poke()));
    await publisher.publish("orders.created", { header: {}, body: text("1") });
    await one.until(() => seen.length === 1);
    await sub.unsubscribe();
    await first.disconnect();

    // Published (and acked by the stream) while nobody consumes.
    for (let n = 2; n <= 11; n++) await publisher.publish("orders.created", { header: { seq: String(n) }, body: text(String(n)) });

    const again = open({ durable: true, stream: "BACKLOG", name: "billing" });
    const rest = waiter(10_000, "the backlog");
    const headers: string[] = [];
    await again.subscribe("orders.created", (e) => {
      seen.push(str(e.message.body));
      headers.push(e.message.header.seq ?? "");
      rest.poke();
    });
    await rest.until(() => new Set(seen).size === 11);
    assert.deepEqual([...new Set(seen)], Array.from({ length: 11 }, (_, i) => String(i + 1)));
    assert.deepEqual(headers.slice(0, 10), Array.from({ length: 10 }, (_, i) => String(i + 2)));
  });

  it("durable: a thrown handler gets the message again, and a queue group shares one consumer", async () => {
    const publisher = open({ durable: true, stream: "RETRY" });
    const a = open({ durable: true, stream: "RETRY" });
    const b = open({ durable: true, stream: "RETRY" });
    const attempts = new Map<string, number>();
    const handled = new Set<string>();
    const done = waiter(15_000, "all messages handled");
    const handler = (e: BrokerEvent) => {
      const id = str(e.message.body);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      if (n === 1 && Number(id) % 3 === 0) throw new Error(`first attempt at ${id} fails`);
      handled.add(id);
      done.poke();
    };
    await a.subscribe("payments.settle", handler, { queue: "settlers" });
    await b.subscribe("payments.settle", handler, { queue: "settlers" });
    for (let n = 1; n <= 12; n++) await publisher.publish("payments.settle", { header: {}, body: text(String(n)) });
    await done.until(() => handled.size === 12);
    for (const id of ["3", "6", "9", "12"]) assert.ok((attempts.get(id) ?? 0) >= 2, `message ${id} was redelivered after its handler threw`);
  });

  it("durable per subscription: a core publisher's messages wait for the subscriber", async () => {
    const publisher = open({ stream: "MIXED" });
    const subscriber = open({ stream: "MIXED", name: "mixer" });
    const seen: string[] = [];
    const first = waiter(10_000, "the live message");
    const sub = await subscriber.subscribe("mixed.topic", (e) => void (seen.push(str(e.message.body)), first.poke()), { durable: true });
    // The stream stores what core NATS publishes on its subjects, so a core publisher feeds durable subscribers.
    await publisher.publish("mixed.topic", { header: { "Micro-Id": "m-1" }, body: text("live") });
    await first.until(() => seen.length === 1);
    await sub.unsubscribe();
    await publisher.publish("mixed.topic", { header: {}, body: text("while-away") });
    const back = waiter(10_000, "the message published while away");
    await subscriber.subscribe("mixed.topic", (e) => void (seen.push(str(e.message.body)), back.poke()), { durable: true });
    await back.until(() => seen.includes("while-away"));
    assert.deepEqual(seen, ["live", "while-away"]);
  });

  it("core: publishing resumes after the server restarts", async () => {
    const publisher = open();
    const subscriber = open();
    const seen: string[] = [];
    const got = waiter(20_000, "a message after the restart");
    await subscriber.subscribe("heartbeat.beat", (e) => void (seen.push(str(e.message.body)), got.poke()));
    await publisher.publish("heartbeat.beat", { header: {}, body: text("before") });
    await got.until(() => seen.includes("before"));

    await nats.stop();
    await nats.start();
    // Publishing while the clients reconnect is buffered, not an error; keep publishing until one gets through.
    let n = 0;
    const received = got.until(() => seen.some((s) => s.startsWith("after-")));
    const ticker = setInterval(() => void publisher.publish("heartbeat.beat", { header: {}, body: text(`after-${++n}`) }).catch(() => {}), 100);
    try {
      await received;
    } finally {
      clearInterval(ticker);
    }
  });

  it("durable: no message is lost across a server restart", async () => {
    const publisher = open({ durable: true, stream: "SURVIVE" });
    const subscriber = open({ durable: true, stream: "SURVIVE", name: "auditor" });
    const seen = new Set<number>();
    const total = 60;
    const done = waiter(60_000, "every sequence number");
    // The handler is held until after the restart, so the first half is stored and unacknowledged when the
    // server goes down.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await subscriber.subscribe("ledger.entry", async (e) => {
      await gate;
      seen.add(Number(str(e.message.body)));
      done.poke();
    });

    // Publish with retry: a publish that failed (server down or reconnecting) was not stored and is sent
    // again; one that resolved was stored.
    const publish = async (n: number) => {
      for (;;) {
        try {
          await publisher.publish("ledger.entry", { header: {}, body: text(String(n)) });
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    for (let n = 1; n <= total / 2; n++) await publish(n);
    await nats.stop();
    await nats.start();
    release();
    for (let n = total / 2 + 1; n <= total; n++) await publish(n);
    await done.until(() => seen.size === total);
    assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: total }, (_, i) => i + 1));
  });
});

describe("NATS broker against a server that requires credentials (real nats-server)", () => {
  let nats: TestServer;
  const brokers: Broker[] = [];

  before(async () => {
    nats = await startNats({ args: ["--user", "micro", "--pass", "s3cret"] });
  });

  after(async () => {
    await Promise.all(brokers.map((b) => b.disconnect().catch(() => {})));
    await nats?.dispose();
  });

  /** Build a broker with some MICRO_* variables set (read when it is created). */
  const withEnv = (env: Record<string, string>) => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      const broker = natsBroker({ address: nats.address, timeout: 2000 });
      brokers.push(broker);
      return broker;
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };

  it("connects with MICRO_BROKER_USERNAME / MICRO_BROKER_PASSWORD; wrong ones are a 401", async () => {
    const good = withEnv({ MICRO_BROKER_USERNAME: "micro", MICRO_BROKER_PASSWORD: "s3cret" });
    const got = waiter(10_000, "the message");
    const seen: string[] = [];
    await good.subscribe("auth.ok", (e) => void (seen.push(str(e.message.body)), got.poke()));
    await good.publish("auth.ok", { header: {}, body: text("in") });
    await got.until(() => seen.length === 1);

    const bad = withEnv({ MICRO_BROKER_USERNAME: "micro", MICRO_BROKER_PASSWORD: "wrong" });
    await assert.rejects(bad.connect(), (e: unknown) => e instanceof MicroError && e.code === 401 && /MICRO_BROKER_PASSWORD/.test(e.detail));
  });
});

describe("NATS broker: durable publishing only resolves once stored (real nats-server)", () => {
  const servers: TestServer[] = [];
  const brokers: Broker[] = [];

  after(async () => {
    await Promise.all(brokers.map((b) => b.disconnect().catch(() => {})));
    await Promise.all(servers.map((s) => s.dispose()));
  });

  it("rejects a durable publish while the server is down, and explains a server without JetStream", async () => {
    const nats = await startNats();
    servers.push(nats);
    const broker = natsBroker({ address: nats.address, durable: true, stream: "DOWN", timeout: 1000, maxReconnectWait: 500 });
    brokers.push(broker);
    await broker.publish("down.topic", { header: {}, body: text("stored") });
    await nats.stop();
    await assert.rejects(broker.publish("down.topic", { header: {}, body: text("not stored") }), (e: unknown) => e instanceof MicroError && e.code === 503);
    await nats.start();

    const plain = await startNats({ jetstream: false });
    servers.push(plain);
    const noJs = natsBroker({ address: plain.address, durable: true, timeout: 1000 });
    brokers.push(noJs);
    await assert.rejects(noJs.publish("plain.topic", { header: {}, body: text("x") }), (e: unknown) => e instanceof MicroError && /-js/.test(e.detail));
    await assert.rejects(noJs.subscribe("plain.topic", () => {}), (e: unknown) => e instanceof MicroError && /-js/.test(e.detail));
  });
});
