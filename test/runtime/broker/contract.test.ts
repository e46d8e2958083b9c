/**
 * The behaviour every broker shares (the contract in src/runtime/broker/index.ts), run against each
 * implementation: memory, direct (brokers on one local registry directory, deliveries over tcp), NATS
 * (a real nats-server) and RabbitMQ (a real rabbitmq-server). A new broker adds one entry to `kits`.
 */
// First: quiets the runtime before it is loaded.
import { startNats, startRabbitMQ, type TestServer } from "../../support/servers.js";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Broker, BrokerEvent, BrokerMessage } from "../../../src/runtime/broker/index.js";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import { directBroker } from "../../../src/runtime/broker/direct/index.js";
import { natsBroker } from "../../../src/runtime/broker/nats/index.js";
import { rabbitmqBroker } from "../../../src/runtime/broker/rabbitmq/index.js";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { localRegistry } from "../../../src/runtime/registry/local/index.js";
import type { Registry } from "../../../src/runtime/registry/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { captureLogs } from "./fixtures/logs.js";

/** Warnings the brokers log (a subscriber's failure is logged where the handler runs). */
const warnings = captureLogs("warn");

interface Kit {
  readonly name: string;
  /** Start what the brokers need. */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A new broker; the brokers of one kit reach each other. */
  make(): Broker;
  /** Whether `publish` waits for the subscribers' handlers (and so can report their failures). */
  readonly waitsForHandlers: boolean;
  /** Call the factory with options it must refuse. */
  badOptions(): unknown;
  /** The largest message body the kit's brokers carry, where they have a limit (memory has none). */
  readonly limit?: number;
}

const memory = (): Kit => {
  let shared: Broker | undefined;
  return {
    name: "memory",
    waitsForHandlers: true,
    async setUp() {},
    async tearDown() {},
    // In-process: every "broker" of the kit is the same one.
    make: () => (shared ??= memoryBroker()),
    badOptions: () => memoryBroker(null as never),
  };
};

const direct = (): Kit => {
  let dir: string;
  let registry: Registry;
  return {
    name: "direct",
    waitsForHandlers: true,
    async setUp() {
      dir = await mkdtemp(join(tmpdir(), "micro-ts-broker-contract-"));
      registry = localRegistry({ address: dir, pollInterval: 250 });
    },
    async tearDown() {
      await registry.close();
      await rm(dir, { recursive: true, force: true });
    },
    // A small message limit, so the limit scenario sends little.
    limit: 64 * 1024,
    make: () => directBroker({ registry, transport: tcpTransport({ maxMessageSize: 64 * 1024 }), ttl: 30 }),
    badOptions: () => directBroker({ registry: undefined as never, transport: tcpTransport() }),
  };
};

const nats = (): Kit => {
  let server: TestServer;
  return {
    name: "nats",
    waitsForHandlers: false,
    async setUp() {
      server = await startNats();
    },
    async tearDown() {
      await server.dispose();
    },
    // nats-server's default max_payload.
    limit: 1024 * 1024,
    make: () => natsBroker({ address: server.address, timeout: 2000, maxReconnectWait: 500 }),
    badOptions: () => natsBroker({ address: "http://127.0.0.1:1" }),
  };
};

const rabbitmq = (): Kit => {
  let server: TestServer;
  return {
    name: "rabbitmq",
    waitsForHandlers: false,
    async setUp() {
      server = await startRabbitMQ();
    },
    async tearDown() {
      await server.dispose();
    },
    // A throwing subscriber's message is dead-lettered at once: the contract's failure case stays one delivery.
    make: () => rabbitmqBroker({ address: server.address, timeout: 5000, maxReconnectWait: 500, onError: "dead-letter" }),
    badOptions: () => rabbitmqBroker({ address: "http://127.0.0.1:1" }),
  };
};

const text = (s: string, header: Record<string, string> = {}): BrokerMessage => ({ header: { "Content-Type": "text/plain", ...header }, body: new TextEncoder().encode(s) });
const str = (e: BrokerEvent) => new TextDecoder().decode(e.message.body);

/** Resolves once `check()` holds (polled), fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const kits: Kit[] = [memory(), direct(), nats(), rabbitmq()];

for (const kit of kits) {
  describe(`broker contract: ${kit.name}`, () => {
    const brokers: Broker[] = [];
    const open = async (): Promise<Broker> => {
      const broker = kit.make();
      if (!brokers.includes(broker)) brokers.push(broker);
      await broker.connect();
      return broker;
    };
    const id = `micro.broker.${kit.name}`;

    before(() => kit.setUp());
    after(async () => {
      await Promise.all(brokers.map((b) => b.disconnect().catch(() => {})));
      await kit.tearDown();
    });

    if (kit.limit !== undefined) {
      const limit = kit.limit;
      test("a message over the limit is refused with a 413 naming both sizes; nothing is delivered, nothing cut", async () => {
        const publisher = await open();
        const subscriber = await open();
        const got: BrokerEvent[] = [];
        await subscriber.subscribe("events.big", (e) => void got.push(e));
        await assert.rejects(publisher.publish("events.big", { header: {}, body: new Uint8Array(limit + 1) }), (e: unknown) => {
          assert.ok(e instanceof MicroError, String(e));
          assert.equal(e.code, 413, e.detail);
          assert.match(e.detail, new RegExp(`${limit + 1} bytes exceeds .*${limit} bytes`));
          return true;
        });
        await publisher.publish("events.big", text("small"));
        await until(() => got.length >= 1, "the small message");
        assert.deepEqual(got.map(str), ["small"], "the oversized message reached nobody");
      });
    }

    test("every plain subscriber gets each message once, header and body intact; other topics get nothing", async () => {
      const publisher = await open();
      const [a, b] = [await open(), await open()];
      assert.equal(publisher.name, kit.name);
      const got: Record<string, BrokerEvent[]> = { a: [], b: [], other: [] };
      await a.subscribe("events.sent", (e) => void got.a!.push(e));
      await b.subscribe("events.sent", (e) => void got.b!.push(e));
      await b.subscribe("events.other", (e) => void got.other!.push(e));
      const sent = ["m0", "m1", "m2", "m3", "m4"];
      for (const s of sent) await publisher.publish("events.sent", text(s, { "X-Seq": s }));
      const binary = new Uint8Array([0, 1, 2, 255, 10, 13]);
      await publisher.publish("events.sent", { header: { "content-type": "application/protobuf" }, body: binary });
      await until(() => got.a!.length === 6 && got.b!.length === 6, "both subscribers");
      for (const list of [got.a!, got.b!]) {
        assert.deepEqual(list.slice(0, 5).map(str), sent, "in order, each once");
        assert.equal(list[3]!.topic, "events.sent");
        assert.deepEqual(list[3]!.message.header, { "Content-Type": "text/plain", "X-Seq": "m3" }, "the header arrives as sent, without broker keys");
        assert.deepEqual([...list[5]!.message.body], [...binary]);
        assert.equal(list[5]!.message.header["content-type"], "application/protobuf");
      }
      assert.deepEqual(got.other, []);
      await publisher.publish("events.nobody", text("x")); // no subscribers: dropped, no error
    });

    test("a queue group gets each message exactly once, spread over its members; unsubscribe stops delivery", async () => {
      const publisher = await open();
      const got = new Map<string, string[]>();
      const plain: string[] = [];
      for (const member of ["w1", "w2", "w3"]) {
        got.set(member, []);
        await (await open()).subscribe("jobs.run", (e) => void got.get(member)!.push(str(e)), { queue: "workers" });
      }
      const audit = await (await open()).subscribe("jobs.run", (e) => void plain.push(str(e)));
      assert.equal(audit.topic, "jobs.run");
      const sent = Array.from({ length: 30 }, (_, i) => `j${i}`);
      for (const s of sent) await publisher.publish("jobs.run", text(s));
      const shares = () => [...got.values()].flat();
      await until(() => shares().length >= 30 && plain.length >= 30, "every message");
      assert.deepEqual(shares().sort(), [...sent].sort(), "each message reached exactly one member");
      for (const [member, list] of got) assert.ok(list.length > 0, `${member} got a share`);
      assert.deepEqual(plain, sent, "a plain subscriber beside the group still gets everything");

      await audit.unsubscribe();
      await publisher.publish("jobs.run", text("after"));
      await until(() => shares().includes("after"), "the group to get the message after unsubscribe");
      assert.equal(plain.length, 30, "nothing after unsubscribe");
    });

    test("a subscriber that throws: the others still get the message; the publisher is told where it waits, else it is logged", async () => {
      const publisher = await open();
      const ok: string[] = [];
      await (await open()).subscribe("strict.check", (e) => {
        throw new Error(`cannot handle ${str(e)}`);
      });
      await (await open()).subscribe("strict.check", (e) => void ok.push(str(e)));
      warnings.length = 0;
      if (kit.waitsForHandlers) {
        await assert.rejects(publisher.publish("strict.check", text("boom")), (e: unknown) => e instanceof MicroError && e.code === 500 && /cannot handle boom/.test(e.detail));
        assert.deepEqual(ok, ["boom"], "delivered to the others before the publish rejected");
      } else {
        await publisher.publish("strict.check", text("boom"));
        await until(() => ok.includes("boom"), "the subscriber that does not throw");
      }
      await until(() => warnings.some((w) => w.topic === "strict.check" && /subscriber failed to handle a message/.test(w.msg)), "the failure logged");
    });

    test("bad arguments and bad options are a 400 with the broker's error id", async () => {
      const broker = await open();
      const isBad = (e: unknown) => e instanceof MicroError && e.code === 400 && e.id === id;
      await assert.rejects(broker.publish("", text("x")), (e: unknown) => isBad(e) && /non-empty/.test((e as MicroError).detail));
      await assert.rejects(broker.subscribe("", () => {}), isBad);
      await assert.rejects(broker.subscribe("fine.topic", "not a function" as never), (e: unknown) => isBad(e) && /handler must be a function/.test((e as MicroError).detail));
      assert.throws(() => kit.badOptions(), isBad);
    });
  });
}

