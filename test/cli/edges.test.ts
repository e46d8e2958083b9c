/**
 * The `micro` bin at its edges (issue 10): a request that is not a JSON object is refused before anything is
 * sent, with the message the gateway and the server use.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readConfig, resolvePlugins } from "../../src/index.js";
import { createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { spawnNode } from "../support/process.js";
import { micro, startFixture, stop, testEnv, type Env, type Fixture } from "./support.js";

let env: Env;
let remove: () => void;
let greeter: Fixture;

before(async () => {
  ({ env, remove } = testEnv());
  greeter = (await startFixture("greeter-service", env)).proc;
});

after(async () => {
  await stop(greeter);
  remove();
});

describe("a request that is not a JSON object", () => {
  test("micro call and micro stream refuse it (exit 2) with `request must be a JSON object` and what was given", async () => {
    for (const [args, stdin, given] of [
      [["call", "greeter", "Greeter.Hello", "[1,2]"], undefined, "an array [1,2]"],
      [["call", "greeter", "Greeter.Hello", '"John"'], undefined, 'a string "John"'],
      [["call", "greeter", "Greeter.Hello", "-"], "7", "a number 7"],
      [["stream", "greeter", "Greeter.Stream", "[1]"], undefined, "an array [1]"],
      [["stream", "greeter", "Greeter.Chat", '{"name":"a"}\n"b"'], undefined, 'a string "b"'],
    ] as const) {
      const r = await micro(args, env, stdin);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`request must be a JSON object, got ${given}`), `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
    }
    const ok = await micro(["call", "greeter", "Greeter.Hello", '{"name":"John"}'], env);
    assert.equal(ok.code, 0, ok.stderr);
  });
});

function errorJson(stderr: string): { id: string; code: number; detail: string; status: string } {
  const e = JSON.parse(stderr.trim().split("\n").pop()!);
  assert.deepEqual(Object.keys(e).sort(), ["code", "detail", "id", "status"]);
  return e;
}

describe("micro list / get", () => {
  before(async () => {
    const plugins = await resolvePlugins(readConfig([], env));
    const node = [{ id: "n-1", address: "127.0.0.1:1", metadata: {} }];
    await plugins.registry.register({ name: "micro.broker.events", version: "1", endpoints: [], nodes: node }, { ttl: 60 });
    await plugins.registry.register(
      {
        name: "clock",
        version: "1",
        nodes: node,
        endpoints: [
          {
            name: "Clock.Set",
            metadata: {},
            request: {
              name: "SetRequest",
              type: "clock.v1.SetRequest",
              values: [
                { name: "at", type: "google.protobuf.Timestamp", values: [{ name: "seconds", type: "int64" }, { name: "nanos", type: "int32" }] },
                { name: "every", type: "google.protobuf.Duration" },
                { name: "labels", type: "google.protobuf.Struct" },
                { name: "limit", type: "google.protobuf.Int64Value" },
                { name: "history", type: "google.protobuf.Timestamp[]" },
              ],
            },
          },
        ],
      },
      { ttl: 60 },
    );
    await plugins.selector.close();
    await plugins.registry.close();
  });

  test("--registry_address naming a directory that does not exist: exit 1 saying so", async () => {
    for (const args of [["list", "services"], ["get", "service", "greeter"]]) {
      const r = await micro([...args, "--registry_address", "/no/such/dir"], env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(errorJson(r.stderr).detail, /registry directory \/no\/such\/dir does not exist/);
    }
  });

  test("list services hides the direct broker's micro.broker.* entries unless --all", async () => {
    const r = await micro(["list", "services"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.split("\n").includes("greeter"), r.stdout);
    assert.ok(!r.stdout.includes("micro.broker."), r.stdout);
    const all = await micro(["list", "services", "--all"], env);
    assert.ok(all.stdout.split("\n").includes("micro.broker.events"), all.stdout);
  });

  test("get service shows well-known types by their JSON form", async () => {
    const r = await micro(["get", "service", "clock"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Request: \{\n\tat string \(RFC 3339\)\n\tevery string \(e\.g\. "1\.5s"\)\n\tlabels object\n\tlimit string \(int64\) or null\n\thistory list of string \(RFC 3339\)\n\}/);
  });
});

const MAIN = fileURLToPath(new URL("../fixtures/cli/main-service.js", import.meta.url));

describe("a service that cannot start", () => {
  test("prints one line naming the reason and exits 1 — no stack unless MICRO_LOG_LEVEL=debug", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as AddressInfo).port;
    try {
      for (const [args, reason] of [
        [["--server_address", `127.0.0.1:${port}`], /EADDRINUSE/],
        [["--registry", "nosuch"], /nosuch/],
        [["--register_ttl", "soon"], /register_ttl/],
        [["--server_address", "nonsense"], /nonsense/],
      ] as const) {
        const proc = spawnNode([MAIN, ...args], env);
        const { code } = await proc.exited;
        assert.equal(code, 1, `${args.join(" ")}: ${proc.stderr}`);
        const lines = proc.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `${args.join(" ")}: ${proc.stderr}`);
        assert.match(lines[0]!, /^main: cannot start: /);
        assert.match(lines[0]!, reason);
      }
      const debug = spawnNode([MAIN, "--registry", "nosuch"], { ...env, MICRO_LOG_LEVEL: "debug" });
      assert.equal((await debug.exited).code, 1);
      assert.match(debug.stderr, /\n\s+at /);
    } finally {
      taken.close();
    }
  });
});

describe("--drain_timeout", () => {
  test("bounds how long a stopping service waits for in-flight calls; the cut call's hint knows the node deregistered", async () => {
    const { proc } = await startFixture("greeter-service", { ...env, SERVICE_NAME: "drainer" }, ["--drain_timeout", "300ms"]);
    const slow = micro(["call", "drainer", "Greeter.Slow", '{"count":60000}', "--timeout", "30s", "--client_retries", "0"], env);
    await proc.waitFor((e) => e.event === "slow");
    const t0 = Date.now();
    proc.kill("SIGTERM");
    await proc.exited;
    const took = Date.now() - t0;
    assert.ok(took < 3000, `stopped after ${took} ms (the default drain is 10 s)`);
    const r = await slow;
    assert.equal(r.code, 1);
    // The node deregistered on SIGTERM: the hint must not say it stopped without deregistering.
    const detail = errorJson(r.stderr).detail;
    assert.doesNotMatch(detail, /without deregistering/);
    assert.match(detail, /drainer stopped while the call was in flight \(its node has deregistered\)/);
  });
});

describe("an unreachable registry", () => {
  test("micro call answers 503 from the registry (not 500 micro.selector), and stderr holds only the command's error", async () => {
    for (const args of [["call", "greeter", "Greeter.Hello", "{}"], ["list", "services"]]) {
      const r = await micro([...args, "--registry", "etcd", "--registry_address", "127.0.0.1:1"], { ...env, MICRO_LOG_LEVEL: "" });
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      const e = errorJson(r.stderr);
      assert.equal(e.code, 503, r.stderr);
      assert.equal(e.id, "micro.registry.etcd");
      assert.match(e.detail, /Is etcd running and reachable there\?/);
    }
  });
});
