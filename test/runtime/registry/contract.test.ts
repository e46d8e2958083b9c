/**
 * The behaviour every registry shares, run against every implementation: memory, local (each run in its own
 * temporary directory), etcd (a real etcd on loopback, each run under its own key prefix) and mdns (in a
 * network namespace the suite creates, each run under its own domain). A new registry
 * joins by adding its maker to `makers` (see src/runtime/registry/README.md).
 */
// First: quiets the runtime before it is loaded.
import { startEtcd, type TestServer } from "../../support/servers.js";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Registry, ServiceRecord } from "../../../src/runtime/registry/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { localRegistry } from "../../../src/runtime/registry/local/index.js";
import { etcdRegistry } from "../../../src/runtime/registry/etcd/index.js";
import { mdnsRegistry } from "../../../src/runtime/registry/mdns/index.js";
import { twoMachines, type Network } from "../../support/netns.js";
import { startHost, type Host } from "./fixtures/mdns-remote.js";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { eventually } from "./fixtures/child.js";
import { is, readEvents } from "./fixtures/events.js";

const dirs: string[] = [];
let etcd: Promise<TestServer> | undefined;
let etcdRuns = 0;
// mDNS: the registries run in a host process inside a network namespace made for the run (test/support/netns.ts),
// so no multicast reaches the machine's interfaces; each registry gets a domain of its own, so it starts empty.
let mdns: Promise<{ network: Network; host: Host }> | undefined;
let mdnsRuns = 0;
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  await (await etcd)?.dispose();
  const m = await mdns?.catch(() => undefined);
  await m?.host.stop();
  m?.network.dispose();
});

interface Maker {
  /** A registry that starts empty. */
  make(): Promise<Registry>;
  /**
   * What `deregister` does after `close()`: `lands` (the registry holds nothing open, so a shutdown that
   * deregisters late still removes its node) or `rejects` (a 503: the connection is gone).
   */
  afterClose: "lands" | "rejects";
  /** Build the registry with a bad option, when it has options. */
  badOptions?: () => unknown;
  /** What the refusal of `badOptions` says (default: a positive number was expected). */
  badOptionsText?: RegExp;
}

const makers: Record<string, Maker> = {
  memory: { make: async () => memoryRegistry(), afterClose: "lands", badOptions: () => memoryRegistry(null as never), badOptionsText: /must be an object/ },
  local: {
    make: async () => {
      const dir = await mkdtemp(join(tmpdir(), "micro-ts-registry-test-"));
      dirs.push(dir);
      return localRegistry({ address: join(dir, "not-yet-created"), pollInterval: 200 });
    },
    afterClose: "lands",
    badOptions: () => localRegistry({ pollInterval: -1 }),
  },
  etcd: {
    make: async () => {
      const server = await (etcd ??= startEtcd());
      return etcdRegistry({ address: server.address.replace("http://", ""), prefix: `/micro-contract/${++etcdRuns}/` });
    },
    afterClose: "rejects",
    badOptions: () => etcdRegistry({ timeout: 0 }),
  },
  mdns: {
    make: async () => {
      const { host } = await (mdns ??= (async () => {
        const network = twoMachines();
        try {
          return { network, host: await startHost(network.a) };
        } catch (error) {
          network.dispose();
          throw error;
        }
      })());
      return host.registry({ domain: `contract-${++mdnsRuns}`, queryWait: 100 });
    },
    afterClose: "rejects",
    // Refused before any socket opens: building it in this process sends nothing.
    badOptions: () => mdnsRegistry({ queryWait: 0 }),
  },
};

function service(name: string, version: string, ...nodes: Array<[id: string, address: string]>): ServiceRecord {
  return {
    name,
    version,
    metadata: { team: "core" },
    endpoints: [{ name: "Greeter.Hello", metadata: { stream: "unary" } }],
    nodes: nodes.map(([id, address]) => ({ id, address, metadata: { transport: "tcp" } })),
  };
}

for (const [kind, { make, afterClose, badOptions, badOptionsText }] of Object.entries(makers)) {
  describe(`${kind} registry`, () => {
    /** A refusal of this implementation: a 400 under its error id, `micro.registry.<impl>`. */
    const refused = (detail: RegExp) => (e: unknown) => e instanceof MicroError && e.code === 400 && e.id === `micro.registry.${kind}` && detail.test(e.detail);

    test("register, get, list and deregister", async () => {
      const registry = await make();
      try {
        assert.deepEqual(await registry.getService("greeter"), [], "a missing service is []");
        assert.deepEqual(await registry.listServices(), []);
        await registry.register(service("greeter", "1.0.0", ["g1", "127.0.0.1:1001"]));
        await registry.register(service("greeter", "1.0.0", ["g2", "127.0.0.1:1002"]));
        await registry.register(service("greeter", "2.0.0", ["g3", "127.0.0.1:1003"]));
        await registry.register(service("weird/name ..", "v", ["n/1", "[::1]:1"]));

        const got = await registry.getService("greeter");
        assert.deepEqual(
          got.map((s) => [s.version, s.nodes.map((n) => [n.id, n.address])]),
          [
            ["1.0.0", [["g1", "127.0.0.1:1001"], ["g2", "127.0.0.1:1002"]]],
            ["2.0.0", [["g3", "127.0.0.1:1003"]]],
          ],
        );
        assert.deepEqual(got[0].endpoints, [{ name: "Greeter.Hello", metadata: { stream: "unary" } }]);
        assert.deepEqual(got[0].metadata, { team: "core" });
        assert.deepEqual(got[0].nodes[0].metadata, { transport: "tcp" });
        assert.deepEqual(
          (await registry.listServices()).map((s) => [s.name, s.version]),
          [["greeter", "1.0.0"], ["greeter", "2.0.0"], ["weird/name ..", "v"]],
        );
        assert.equal((await registry.getService("weird/name .."))[0].nodes[0].id, "n/1");

        await registry.deregister(service("greeter", "1.0.0", ["g1", ""]));
        assert.deepEqual((await registry.getService("greeter")).map((s) => s.nodes.map((n) => n.id)), [["g2"], ["g3"]]);
        await registry.deregister(service("greeter", "1.0.0", ["g2", ""]));
        await registry.deregister(service("greeter", "2.0.0", ["g3", ""]));
        assert.deepEqual(await registry.getService("greeter"), []);
        await registry.deregister(service("never", "1", ["x", ""])); // unknown nodes: no error
      } finally {
        await registry.close();
      }
    });

    test("a result is a copy the caller may change", async () => {
      const registry = await make();
      try {
        await registry.register(service("copy", "1", ["c1", "a:1"]));
        const [first] = await registry.getService("copy");
        (first.nodes as unknown[]).length = 0;
        assert.equal((await registry.getService("copy"))[0].nodes.length, 1);
      } finally {
        await registry.close();
      }
    });

    test("bad records are refused with a clear error", async () => {
      const registry = await make();
      try {
        await assert.rejects(registry.register(service("", "1", ["a", "b"])), refused(/non-empty name/));
        await assert.rejects(registry.register(service("x", "1", ["", "b"])), refused(/non-empty id/));
      } finally {
        await registry.close();
      }
    });

    if (badOptions) {
      test("bad options are refused with a 400 under the registry's error id", () => {
        assert.throws(badOptions, refused(badOptionsText ?? /must be a positive number/));
      });
    }

    test("nodes expire after their TTL unless registered again", async () => {
      const registry = await make();
      try {
        const watcher = registry.watch({ service: "ttl" });
        const events = readEvents(watcher);
        await registry.register(service("ttl", "1", ["short", "a:1"]), { ttl: 1 });
        await registry.register(service("ttl", "1", ["long", "a:2"]), { ttl: 60 });
        await events.next(is("create", "ttl", "short"), "create short");
        await events.next(is("delete", "ttl", "short"), "delete of the expired node");
        assert.deepEqual((await registry.getService("ttl"))[0].nodes.map((n) => n.id), ["long"]);
        assert.ok(!events.seen.some(is("delete", "ttl", "long")));
        watcher.stop();
      } finally {
        await registry.close();
      }
    });

    test("watch reports create, update and delete, filtered by service", async () => {
      const registry = await make();
      try {
        const all = readEvents(registry.watch());
        const controller = new AbortController();
        const onlyA = readEvents(registry.watch({ service: "a", signal: controller.signal }));

        await registry.register(service("a", "1", ["a1", "h:1"]));
        await all.next(is("create", "a", "a1"), "create a1");
        await registry.register(service("b", "1", ["b1", "h:2"]));
        await all.next(is("create", "b", "b1"), "create b1");

        await registry.register(service("a", "1", ["a1", "h:1"])); // a heartbeat: no change
        await registry.register(service("a", "1", ["a1", "h:9"])); // moved: an update
        const update = await all.next(is("update", "a", "a1"), "update a1");
        assert.equal(update.service.nodes[0].address, "h:9");
        assert.equal(update.service.version, "1");
        assert.deepEqual(update.service.endpoints.map((e) => e.name), ["Greeter.Hello"]);

        await registry.deregister(service("a", "1", ["a1", "h:9"]));
        await all.next(is("delete", "a", "a1"), "delete a1");
        await onlyA.next(is("delete", "a", "a1"), "delete a1 (filtered watch)");
        assert.deepEqual(
          onlyA.seen.map((e) => [e.action, e.service.name]),
          [["create", "a"], ["update", "a"], ["delete", "a"]],
          "the filtered watch saw only service a, and no event for the heartbeat",
        );
        controller.abort();
      } finally {
        await registry.close();
      }
    });

    test(`a watch ends when stopped or when the registry closes; a late deregister ${afterClose}`, async () => {
      const registry = await make();
      const stopped = registry.watch();
      stopped.stop();
      for await (const _ of stopped) assert.fail("a stopped watch yields nothing");
      const open = registry.watch();
      const ended = (async () => {
        for await (const _ of open) {
          // no events expected
        }
        return true;
      })();
      await registry.register(service("late", "1", ["l1", "h:1"]));
      await registry.close();
      assert.equal(await ended, true);
      if (afterClose === "lands") {
        // A shutdown that deregisters after closing still removes the node.
        await registry.deregister(service("late", "1", ["l1", "h:1"]));
        assert.deepEqual(await registry.getService("late"), []);
      } else {
        await assert.rejects(registry.deregister(service("late", "1", ["l1", "h:1"])), (e: unknown) => e instanceof MicroError && e.code === 503 && /closed/.test(e.detail));
      }
    });

    test("many concurrent registrations all land", async () => {
      const registry = await make();
      try {
        await Promise.all(Array.from({ length: 50 }, (_, i) => registry.register(service("many", "1", [`n${i}`, `h:${i}`]))));
        await eventually(async () => (await registry.getService("many"))[0]?.nodes.length === 50, "50 nodes");
      } finally {
        await registry.close();
      }
    });
  });
}
