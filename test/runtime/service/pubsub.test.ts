/**
 * Publish/subscribe across processes through the default direct broker: every subscriber gets a topic's
 * messages; in a queue group each message goes to exactly one member. Over each transport in TRANSPORTS
 * (the direct broker delivers through the service's transport).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { newService, type Service } from "../../../src/index.js";
import { HelloRequestCodec } from "../../fixtures/runtime/greeter.js";
import { startGreeter, tempRegistry, type Fixture } from "../../fixtures/runtime/harness.js";
import { TRANSPORTS } from "../../support/transports.js";

for (const transport of TRANSPORTS) {
  describe(`publish/subscribe over ${transport}`, () => {
    const reg = tempRegistry();
    const nodes: Fixture[] = [];
    let publisher: Service;

    before(async () => {
      for (const tag of ["s1", "s2"]) {
        const { node } = await startGreeter(["--registry_address", reg.dir, "--transport", transport], { NODE_TAG: tag, SUBSCRIBE: "events,jobs:workers,hello" });
        nodes.push(node);
      }
      publisher = newService({ name: "publisher", argv: ["--registry_address", reg.dir, "--transport", transport], env: {} });
      publisher.init();
    });

    after(async () => {
      await publisher?.stop();
      for (const n of nodes) n.kill();
      await Promise.all(nodes.map((n) => n.exited));
      reg.remove();
    });

    test("without a queue every subscriber receives the message, as JSON", async () => {
      await publisher.client().publish("events", { kind: "created", id: 7 }, { metadata: { "x-trace": "t1" } });
      for (const n of nodes) {
        const e = await n.waitFor((x) => x.event === "message" && x.topic === "events");
        assert.deepEqual(e.message, { kind: "created", id: 7 });
      }
    });

    test("subscribers decode with their codec, protobuf or JSON alike", async () => {
      await publisher.client().publish("hello", { name: "proto" }, { codec: HelloRequestCodec });
      await publisher.client().publish("hello", { name: "json" });
      for (const n of nodes) {
        assert.deepEqual((await n.waitFor((x) => x.event === "message" && x.topic === "hello" && (x.message as { name: string }).name === "proto")).message, { name: "proto" });
        assert.deepEqual((await n.waitFor((x) => x.event === "message" && x.topic === "hello" && (x.message as { name: string }).name === "json")).message, { name: "json" });
      }
    });

    test("in a queue group each message goes to exactly one member", async () => {
      const count = 20;
      for (let i = 0; i < count; i++) await publisher.client().publish("jobs", { job: i });
      const received = () => nodes.flatMap((n) => n.events.filter((e) => e.event === "message" && e.topic === "jobs"));
      // Wait until all 20 arrived somewhere (each node's waitFor resolves on its own events; poll both through events).
      for (let i = 0; i < count; i++) {
        await Promise.any(nodes.map((n) => n.waitFor((e) => e.event === "message" && e.topic === "jobs" && (e.message as { job: number }).job === i)));
      }
      const jobs = received().map((e) => (e.message as { job: number }).job).sort((x, y) => x - y);
      assert.deepEqual(jobs, Array.from({ length: count }, (_, i) => i), "each job once");
    });
  });
}
