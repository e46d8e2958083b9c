/**
 * End to end through etcd: a greeter service process started with `--registry etcd`, a client in this process
 * calling it in a loop, and etcd killed and restarted in the middle of the run. Calls to the service that
 * was already discovered must not fail, neither while etcd is down nor after it returns.
 */
// First: quiets the runtime before it is loaded.
import { startEtcd, type TestServer } from "../../support/servers.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { newService, type Service } from "../../../src/index.js";
import { etcdRegistry } from "../../../src/runtime/registry/etcd/index.js";
import type { Registry } from "../../../src/runtime/registry/index.js";
import { cacheSelector } from "../../../src/runtime/selector/index.js";
import { Greeter } from "../../fixtures/runtime/greeter.js";
import { startGreeter, type Fixture } from "../../fixtures/runtime/harness.js";

const hello = { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello };

describe("etcd restarted during a load run (real etcd, service process)", () => {
  let etcd: TestServer;
  let node: Fixture | undefined;
  let registry: Registry | undefined;
  let client: Service | undefined;

  before(async () => {
    etcd = await startEtcd();
  });

  after(async () => {
    node?.kill();
    await client?.stop().catch(() => {});
    await registry?.close();
    await etcd?.dispose();
  });

  it("serves every call to an already discovered service while etcd is down and after it returns", async (t) => {
    const address = etcd.address.replace("http://", "");
    // The service is configured by flags, through the runtime's plugin table, as a user would run it.
    ({ node } = await startGreeter(["--registry", "etcd", "--registry_address", address, "--register_ttl", "10", "--register_interval", "1"], { NODE_TAG: "etcd-node" }));

    // The client looks the service up again every 100 ms (cache TTL), so the outage is felt by every lookup,
    // and each one fails fast (1 s bound) and falls back to the last known nodes.
    registry = etcdRegistry({ address, timeout: 1000, dialTimeout: 500 });
    client = newService({ name: "loader", registry, selector: cacheSelector({ registry, cacheTtl: 100 }), handleSignals: false, argv: [], env: {} });
    const first = await client.client().call(hello, { name: "first" });
    assert.match(first.message, /Hello first from etcd-node/);

    let ok = 0;
    const failures: string[] = [];
    let running = true;
    let poke: () => void = () => {};
    const reach = (count: number, ms: number, what: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${ok}/${count} calls after ${ms} ms (${what}); failures: ${failures.slice(0, 3).join("; ")}`)), ms);
        poke = () => {
          if (ok >= count) {
            clearTimeout(timer);
            resolve();
          }
        };
        poke();
      });
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        try {
          const reply = await client!.client().call(hello, { name: `w${w}-${i}` });
          assert.equal(reply.message, `Hello w${w}-${i} from etcd-node`);
          ok++;
        } catch (error) {
          failures.push(error instanceof Error ? error.message : String(error));
        }
        poke();
      }
    };
    const workers = [0, 1, 2, 3].map(worker);

    try {
      await reach(100, 30_000, "before the outage");
      await etcd.kill();
      const atOutage = ok;
      // Lookups really fail meanwhile: the calls below are served from the last known nodes.
      await assert.rejects(registry.getService("greeter"), /etcd/);
      await reach(atOutage + 200, 30_000, "while etcd is down");
      const duringOutage = ok - atOutage;
      await etcd.start();
      const atReturn = ok;
      // Discovery works again: the node is in etcd (its lease came back with the data dir, and its heartbeat
      // refreshes it) and fresh lookups succeed.
      const services = await registry.getService("greeter");
      assert.equal(services.flatMap((s) => s.nodes).length, 1);
      await reach(ok + 200, 30_000, "after etcd returned");
      t.diagnostic(`calls: ${atOutage} before the outage, ${duringOutage} while etcd was down (+${atReturn - atOutage - duringOutage} during its restart), ${ok - atReturn} after; ${failures.length} failed`);
    } finally {
      running = false;
      await Promise.all(workers);
    }
    assert.deepEqual(failures, [], `${failures.length} calls failed of ${ok + failures.length}`);

    // The service's heartbeat is alive after the restart: when its lease is revoked behind its back, it
    // registers again on its next interval.
    const watcher = registry.watch({ service: "greeter" });
    const events = watcher[Symbol.asyncIterator]();
    const admin = new Etcd3({ hosts: etcd.address });
    try {
      const { leases } = await admin.leaseClient.leaseLeases({});
      for (const { ID } of leases) await admin.leaseClient.leaseRevoke({ ID });
      const seen: string[] = [];
      const deadline = setTimeout(() => watcher.stop(), 15_000);
      for (let r = await events.next(); !r.done; r = await events.next()) {
        seen.push(r.value.action);
        if (r.value.action === "create") break;
      }
      clearTimeout(deadline);
      assert.deepEqual(seen, ["delete", "create"], "the node was removed with its lease and registered again");
    } finally {
      watcher.stop();
      admin.close();
    }
  });
});
