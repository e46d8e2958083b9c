/**
 * What only the NATS broker does, against a real nats-server (JetStream on) on loopback: subject rules,
 * reconnect after a server restart, credentials, and durable at-least-once delivery (backlog while a
 * subscriber is down, redelivery after a thrown handler, no loss across a server restart). Fan-out, queue
 * groups, headers and bodies, and the common errors are in test/runtime/broker/contract.test.ts.
 */
// First: quiets the runtime before it is loaded.
import { freePort, startNats, type NatsTestServer, type TestServer } from "../../support/servers.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
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

interface RestartFigures {
  acked: number;
  /** Acknowledged before the stop signal, while the server was stopping, after the restart. */
  byPhase: [number, number, number];
  failed: number;
  delivered: number;
  /** Acknowledged but never delivered, by the phase they were acknowledged in. */
  lost: [number, number, number];
  streamMessages: number;
}

/**
 * 8 publishers publish numbered messages durably to `nats` while a durable subscriber collects them; the
 * server is stopped with `signal` in the middle and started again. A publish that resolved was acknowledged
 * by JetStream (stored); one that failed claims nothing and is not retried.
 */
async function restartDuringPublishing(nats: TestServer, brokers: Broker[], stream: string, signal: NodeJS.Signals): Promise<RestartFigures> {
  const open = (options: NatsBrokerOptions) => {
    const broker = natsBroker({ address: nats.address, timeout: 1000, maxReconnectWait: 200, ...options });
    brokers.push(broker);
    return broker;
  };
  const publisher = open({ durable: true, stream });
  const subscriber = open({ durable: true, stream, name: "ledger" });
  const delivered = new Set<number>();
  const all = waiter(8000, "every acknowledged message after the restart");
  await subscriber.subscribe(`${stream.toLowerCase()}.entry`, (e) => {
    delivered.add(Number(str(e.message.body)));
    all.poke();
  });

  const phase = new Map<number, 0 | 1 | 2>();
  let current: 0 | 1 | 2 = 0;
  let next = 0;
  let failed = 0;
  let publishing = true;
  const worker = async () => {
    while (publishing) {
      const n = next++;
      try {
        await publisher.publish(`${stream.toLowerCase()}.entry`, { header: {}, body: text(String(n)) });
        phase.set(n, current);
      } catch {
        failed++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(500);
  current = 1;
  await nats.stop(signal, 60_000);
  current = 2;
  await nats.start();
  const resumedFrom = phase.size;
  const deadline = Date.now() + 15_000;
  while (phase.size < resumedFrom + 200 && Date.now() < deadline) await sleep(50);
  publishing = false;
  await Promise.all(workers);

  const lost = () => [...phase.keys()].filter((n) => !delivered.has(n));
  await all.until(() => lost().length === 0).catch(() => {});
  const nc = await connect({ servers: nats.address });
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  await nc.close();
  const count = (p: number, of: number[]) => of.filter((n) => phase.get(n) === p).length;
  const acked = [...phase.keys()];
  return {
    acked: acked.length,
    byPhase: [count(0, acked), count(1, acked), count(2, acked)],
    failed,
    delivered: delivered.size,
    lost: [count(0, lost()), count(1, lost()), count(2, lost())],
    streamMessages: info.state.messages,
  };
}

const describeRestart = (how: string, nats: NatsTestServer, f: RestartFigures) =>
  `${how}: nats-server sync_interval always: ${nats.syncAlways}; acked ${f.acked} (before the signal / while stopping / after the restart: ${f.byPhase.join(" / ")}), ` +
  `failed publishes ${f.failed}, delivered ${f.delivered}, acknowledged but never delivered ${f.lost.join(" / ")}`;

describe("NATS broker: a server restart during durable publishing (real nats-server)", () => {
  const servers: TestServer[] = [];
  const brokers: Broker[] = [];

  after(async () => {
    await Promise.all(brokers.map((b) => b.disconnect().catch(() => {})));
    await Promise.all(servers.map((s) => s.dispose()));
  });

  it("SIGTERM: every message acknowledged before the stop is delivered; with sync_interval: always, every message", { timeout: 60_000 }, async (t) => {
    // JetStream as README's "Going to production" asks for no loss: sync_interval: always where the server knows it.
    const nats = await startNats();
    servers.push(nats);
    const f = await restartDuringPublishing(nats, brokers, "GRACEFUL", "SIGTERM");
    t.diagnostic(describeRestart("SIGTERM restart", nats, f));
    assert.ok(f.byPhase[2] > 0, "no publish succeeded after the restart");
    assert.equal(f.lost[0] + f.lost[2], 0, "messages acknowledged before the stop or after the restart were lost");
    // nats-server 2.9.10 (no sync_interval) acknowledges publishes while it shuts down and can lose those
    // (measured 0-88 of them): README's "Going to production" says to stop it in lame duck mode instead.
    if (nats.syncAlways) assert.equal(f.lost[1], 0, "messages acknowledged while the server stopped were lost");
  });

  it("lame duck mode (SIGUSR2): every message acknowledged before the stop is delivered; with sync_interval: always, every message", { timeout: 60_000 }, async (t) => {
    const nats = await startNats({ lameDuck: { duration: "30s", gracePeriod: "1s" } });
    servers.push(nats);
    const f = await restartDuringPublishing(nats, brokers, "LAMEDUCK", "SIGUSR2");
    t.diagnostic(describeRestart("lame duck restart", nats, f));
    assert.ok(f.byPhase[2] > 0, "no publish succeeded after the restart");
    assert.equal(f.lost[0] + f.lost[2], 0, "messages acknowledged before the stop or after the restart were lost");
    // Lame duck mode closes the clients first, which narrows 2.9.10's window but does not close it: measured
    // 0-7 acknowledged-while-stopping messages lost (README's "Going to production" says so).
    if (nats.syncAlways) assert.equal(f.lost[1], 0, "messages acknowledged while the server stopped were lost");
  });
});
