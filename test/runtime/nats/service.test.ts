/**
 * The NATS broker chosen by flags, end to end through the runtime: a greeter service process started with
 * `--broker nats` subscribes through its server; a client in this process publishes through its own service.
 */
// First: quiets the runtime before it is loaded.
import { startNats, type TestServer } from "../../support/servers.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newService, type Service } from "../../../src/index.js";
import { spawnFixture, type Fixture } from "../../fixtures/runtime/harness.js";

describe("--broker nats through newService (real nats-server, service process)", () => {
  let nats: TestServer;
  let node: Fixture | undefined;
  let publisher: Service | undefined;

  before(async () => {
    nats = await startNats();
  });

  after(async () => {
    node?.kill();
    await publisher?.stop().catch(() => {});
    await nats?.dispose();
  });

  it("delivers a published event to the subscriber of another process", async () => {
    const flags = ["--registry", "memory", "--broker", "nats", "--broker_address", nats.address];
    node = spawnFixture("greeter-server", flags, { SUBSCRIBE: "events.greeted:greeters", NODE_TAG: "nats-node" });
    await node.started((e) => e.event === "ready");

    publisher = newService({ name: "publisher", argv: flags, env: {}, handleSignals: false });
    publisher.init();
    const plugins = await publisher.plugins();
    assert.equal(plugins.broker.name, "nats");
    await publisher.client().publish("events.greeted", { who: "John" });
    const event = await node.waitFor((e) => e.event === "message");
    assert.equal(event.topic, "events.greeted");
    assert.deepEqual(event.message, { who: "John" });
    assert.equal(event.queue, "greeters");
  });
});
