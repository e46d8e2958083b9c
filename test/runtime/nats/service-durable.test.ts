/**
 * Durable subscribers of different services on the NATS broker chosen by flags: each service's broker is
 * named after the service, so each service has its own JetStream consumer and gets every message (instead of
 * the services splitting the messages of one consumer named after the default broker name).
 */
// First: quiets the runtime before it is loaded.
import { startNats, type TestServer } from "../../support/servers.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { newService, registerSubscriber, type Service } from "../../../src/index.js";

const TOPIC = "orders.placed";
const COUNT = 10;

describe("durable subscribers of two services on --broker nats (real nats-server)", () => {
  let nats: TestServer;
  const services: Service[] = [];
  const savedName = process.env.MICRO_BROKER_NAME;

  before(async () => {
    // The broker reads MICRO_BROKER_NAME from the process; this test is about the default.
    delete process.env.MICRO_BROKER_NAME;
    nats = await startNats();
  });

  after(async () => {
    for (const service of services) await service.stop().catch(() => {});
    await nats?.dispose();
    if (savedName !== undefined) process.env.MICRO_BROKER_NAME = savedName;
  });

  it("gives every message to each service, each through its own consumer", async () => {
    const flags = ["--registry", "memory", "--broker", "nats", "--broker_address", nats.address];
    const received: Record<string, number[]> = { billing: [], shipping: [] };
    let poke = () => {};
    const allReceived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${COUNT} messages in each service: ${JSON.stringify(received)}`)), 20_000);
      poke = () => {
        if (received.billing!.length >= COUNT && received.shipping!.length >= COUNT) {
          clearTimeout(timer);
          resolve();
        }
      };
    });

    for (const name of ["billing", "shipping"]) {
      const service = newService({ name, argv: flags, env: {}, handleSignals: false });
      services.push(service);
      service.init();
      registerSubscriber<{ n: number }>(TOPIC, service.server(), ({ message }) => {
        received[name]!.push(message.n);
        poke();
      }, { durable: true });
      await service.start();
    }

    const publisher = newService({ name: "shop", argv: flags, env: {}, handleSignals: false });
    services.push(publisher);
    publisher.init();
    for (let n = 0; n < COUNT; n++) await publisher.client().publish(TOPIC, { n });
    await allReceived;

    const all = Array.from({ length: COUNT }, (_, n) => n);
    assert.deepEqual([...received.billing!].sort((a, b) => a - b), all);
    assert.deepEqual([...received.shipping!].sort((a, b) => a - b), all);

    // One durable consumer per service, named after it.
    const nc = await connect({ servers: nats.address });
    try {
      const jsm = await jetstreamManager(nc);
      const names: string[] = [];
      for await (const info of jsm.consumers.list("MICRO")) names.push(info.name);
      assert.deepEqual(names.sort(), ["billing-orders_placed", "shipping-orders_placed"]);
    } finally {
      await nc.close();
    }
  });
});
