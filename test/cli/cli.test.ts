/**
 * The real `micro` bin (dist/micro.js) against real service processes on loopback: list, get, call,
 * stream, publish, health, and the exit codes 0 (success), 1 (remote or connection error), 2 (usage).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readConfig, resolvePlugins } from "../../src/index.js";
import { micro, startFixture, stop, testEnv, type Env, type Fixture } from "./support.js";

let env: Env;
let remove: () => void;
let greeter: Fixture;
let greeterAddress: string;
let subscriber: Fixture;

before(async () => {
  ({ env, remove } = testEnv());
  const [g, s] = await Promise.all([startFixture("greeter-service", env), startFixture("greeter-service", { ...env, SERVICE_NAME: "listener", SUBSCRIBE: "events" })]);
  greeter = g.proc;
  greeterAddress = g.address;
  subscriber = s.proc;
});

after(async () => {
  await Promise.all([stop(greeter), stop(subscriber)]);
  remove();
});

function errorJson(stderr: string): { id: string; code: number; detail: string; status: string } {
  const line = stderr.trim().split("\n").pop()!;
  const e = JSON.parse(line);
  assert.deepEqual(Object.keys(e).sort(), ["code", "detail", "id", "status"]);
  return e;
}

describe("micro list / get", () => {
  test("list services", async () => {
    const r = await micro(["list", "services"], env);
    assert.equal(r.code, 0, r.stderr);
    const names = r.stdout.trim().split("\n");
    assert.ok(names.includes("greeter") && names.includes("listener"), r.stdout);
    assert.deepEqual(names, [...names].sort());
    const j = await micro(["list", "services", "--output", "json"], env);
    assert.deepEqual(JSON.parse(j.stdout), names);
  });

  test("get service: versions, nodes and endpoints with their fields", async () => {
    const r = await micro(["get", "service", "greeter"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^service {2}greeter$/m);
    assert.match(r.stdout, /^version 1\.0\.0$/m);
    assert.ok(r.stdout.includes(`\t${greeterAddress}\t`), r.stdout);
    assert.match(r.stdout, /transport=tcp/);
    assert.match(r.stdout, /^Endpoint: Greeter\.Hello$/m);
    assert.match(r.stdout, /^Endpoint: Greeter\.Chat$/m);
    assert.match(r.stdout, /Request: \{\n\tname string\n\tcount int32\n\tloud bool\n\}/);
    assert.match(r.stdout, /Response: \{\n\tmessage string\n\}/);
    const j = await micro(["get", "service", "greeter", "--output", "json"], env);
    const recs = JSON.parse(j.stdout);
    assert.equal(recs[0].nodes[0].address, greeterAddress);
    assert.ok(recs[0].endpoints.some((e: { name: string; metadata: { stream: string } }) => e.name === "Greeter.Stream" && e.metadata.stream === "server_streaming"));
  });

  test("get an unknown service: exit 1 with a JSON error", async () => {
    const r = await micro(["get", "service", "nosuch"], env);
    assert.equal(r.code, 1);
    assert.equal(errorJson(r.stderr).code, 404);
  });
});

describe("micro call", () => {
  test("prints the reply as JSON", async () => {
    const r = await micro(["call", "greeter", "Greeter.Hello", '{"name":"John"}'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { message: "Hello John" });
  });

  test("metadata, text output and the request from stdin", async () => {
    const r = await micro(["call", "greeter", "Greeter.Hello", "-", "--metadata", "x-user=ann", "--metadata", "other=1", "--output", "text"], env, '{"name":"Jo","loud":true}');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "message: HELLO JO (ANN)\n");
  });

  test("--address skips discovery", async () => {
    const empty = testEnv();
    try {
      const r = await micro(["call", "greeter", "Greeter.Hello", '{"name":"Direct"}', "--address", greeterAddress], empty.env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { message: "Hello Direct" });
    } finally {
      empty.remove();
    }
  });

  test("a remote error: exit 1, the error as JSON", async () => {
    const r = await micro(["call", "greeter", "Greeter.Fail", '{"count":403}'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.deepEqual(errorJson(r.stderr), { id: "greeter", code: 403, detail: "failed with 403", status: "Forbidden" });
  });

  test("--timeout: exit 1 with a timeout error", async () => {
    const r = await micro(["call", "greeter", "Greeter.Slow", "{}", "--timeout", "200ms", "--client_retries", "0"], env);
    assert.equal(r.code, 1);
    assert.equal(errorJson(r.stderr).code, 408);
  });

  test("a request over the server's message limit (5 MB body): exit 1 with a 413 naming both sizes, not a reply to an empty request", async () => {
    const r = await micro(["call", "greeter", "Greeter.Hello", "-"], env, JSON.stringify({ name: "x".repeat(5_000_000) }));
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stdout, "");
    const e = errorJson(r.stderr);
    assert.equal(e.code, 413, e.detail);
    assert.match(e.detail, /request message of 500\d{4} bytes exceeds the server's limit of 4194304 bytes; .*maxMessageSize/);
  });

  test("unknown service and refused connection: exit 1", async () => {
    const unknown = await micro(["call", "nosuch", "Nosuch.Call", "{}"], env);
    assert.equal(unknown.code, 1);
    assert.equal(errorJson(unknown.stderr).code, 404);
    const refused = await micro(["call", "greeter", "Greeter.Hello", "{}", "--address", "127.0.0.1:1", "--client_retries", "0"], env);
    assert.equal(refused.code, 1);
    assert.ok(errorJson(refused.stderr).code >= 500);
  });

  test("usage errors exit 2", async () => {
    for (const args of [
      ["call", "greeter", "Greeter.Hello", "{bad json"],
      ["call", "greeter"],
      ["call", "greeter", "Greeter.Hello", "{}", "--metadata", "novalue"],
      ["call", "greeter", "Greeter.Hello", "{}", "--timeout", "soon"],
      ["call", "greeter", "not an endpoint"],
      ["call", "greeter", "Greeter.Hello", "{}", "--output", "xml"],
      ["cal", "greeter"],
      ["list", "things"],
      ["api", "--address", "nonsense"],
      ["api", "--handler", "soap"],
      ["api", "--max_body", "-1"],
    ]) {
      const r = await micro(args, env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /micro: /);
    }
  });
});

describe("micro stream", () => {
  test("a server stream prints NDJSON (kind from the registry)", async () => {
    const r = await micro(["stream", "greeter", "Greeter.Stream", '{"name":"s","count":3}'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l)), [{ message: "s 0" }, { message: "s 1" }, { message: "s 2" }]);
  });

  test("client and bidi streams read NDJSON from stdin", async () => {
    const up = await micro(["stream", "greeter", "Greeter.Upload"], env, '{"name":"a"}\n\n{"name":"b"}\n');
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(JSON.parse(up.stdout), { message: "a,b" });
    const chat = await micro(["stream", "greeter", "Greeter.Chat", "-"], env, '{"name":"x"}\n{"name":"y"}\n');
    assert.equal(chat.code, 0, chat.stderr);
    assert.equal(chat.stdout, '{"message":"echo x"}\n{"message":"echo y"}\n');
  });

  test("--kind with --address needs no registry", async () => {
    const empty = testEnv();
    try {
      const r = await micro(["stream", "greeter", "Greeter.Stream", '{"name":"k","count":1}', "--kind", "server", "--address", greeterAddress], empty.env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '{"message":"k 0"}\n');
    } finally {
      empty.remove();
    }
  });

  test("bad stdin line: exit 2; unknown endpoint: exit 1", async () => {
    const bad = await micro(["stream", "greeter", "Greeter.Chat"], env, '{"name":"x"}\nnot json\n');
    assert.equal(bad.code, 2, bad.stderr);
    const unknown = await micro(["stream", "greeter", "Greeter.Nope"], env);
    assert.equal(unknown.code, 1);
    assert.equal(errorJson(unknown.stderr).code, 404);
  });
});

describe("micro publish / health", () => {
  test("publish reaches a subscriber", async () => {
    const r = await micro(["publish", "events", '{"id":42}', "--metadata", "k=v"], env);
    assert.equal(r.code, 0, r.stderr);
    const e = await subscriber.waitFor((ev) => ev.event === "message");
    assert.deepEqual(e.message, { id: 42 });
    assert.equal((await micro(["publish", "events", "{nope"], env)).code, 2);
  });

  test("health checks every node", async () => {
    const r = await micro(["health", "greeter"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`\\t${greeterAddress.replace(/\./g, "\\.")}\\t1\\.0\\.0\\tok$`, "m"));
    const j = await micro(["health", "greeter", "--output", "json"], env);
    assert.equal(JSON.parse(j.stdout)[0].status, "ok");
    // A node that does not answer makes the check fail, with the others still listed.
    const plugins = await resolvePlugins(readConfig([], env));
    await plugins.registry.register({ name: "ghost", version: "1", endpoints: [], nodes: [{ id: "ghost-1", address: "127.0.0.1:1", metadata: {} }] }, { ttl: 60 });
    await plugins.selector.close();
    await plugins.registry.close();
    const ghost = await micro(["health", "ghost", "--timeout", "2s"], env);
    assert.equal(ghost.code, 1);
    assert.match(ghost.stdout, /^ghost-1\t127\.0\.0\.1:1\t1\tunreachable/m);
    assert.equal(errorJson(ghost.stderr).code, 503);
    const none = await micro(["health", "nosuch"], env);
    assert.equal(none.code, 1);
    assert.equal(errorJson(none.stderr).code, 404);
  });
});

describe("errors that say what to do", () => {
  test("a registered node that does not answer, and an address where nothing listens", async () => {
    const plugins = await resolvePlugins(readConfig([], env));
    await plugins.registry.register({ name: "stale", version: "1", endpoints: [], nodes: [{ id: "stale-1", address: "127.0.0.1:1", metadata: {} }] }, { ttl: 60 });
    await plugins.selector.close();
    await plugins.registry.close();
    const stale = await micro(["call", "stale", "Stale.Hello", "{}", "--timeout", "2s"], env);
    assert.equal(stale.code, 1);
    const e = errorJson(stale.stderr);
    assert.equal(e.code, 503);
    assert.match(e.detail, /stale is registered but its node does not answer: is the service still running\?.*`micro health stale`/);
    const direct = await micro(["call", "greeter", "Greeter.Hello", "{}", "--address", "127.0.0.1:1", "--timeout", "2s"], env);
    assert.equal(direct.code, 1);
    assert.match(errorJson(direct.stderr).detail, /nothing answers at 127\.0\.0\.1:1: is greeter running there\?/);
  });

  test("a service that is not registered: stream and health point at the registry", async () => {
    for (const args of [["stream", "nosuch", "Nosuch.Stream"], ["health", "nosuch"]]) {
      const r = await micro(args, env);
      assert.equal(r.code, 1, args.join(" "));
      const e = errorJson(r.stderr);
      assert.equal(e.code, 404);
      assert.match(e.detail, /is it running, and on the same registry .*`micro list services`/);
    }
  });

  test("micro stream checks a request argument before looking anything up (exit 2)", async () => {
    const one = await micro(["stream", "nosuch", "Nosuch.Stream", "{nope"], env);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /the request is not valid JSON/);
    const lines = await micro(["stream", "nosuch", "Nosuch.Chat", '{"name":"a"}\nnope'], env);
    assert.equal(lines.code, 2);
    assert.match(lines.stderr, /line 2 of the request is not valid JSON/);
  });
});

test("a bad global flag is a usage error (exit 2) that lists what is accepted", async () => {
  const plugin = await micro(["list", "services", "--registry", "nosuch"], env);
  assert.equal(plugin.code, 2);
  assert.match(plugin.stderr, /unknown registry "nosuch"; available: local, memory, etcd/);
  const duration = await micro(["call", "greeter", "Greeter.Hello", "{}", "--client_request_timeout", "5x"], env);
  assert.equal(duration.code, 2);
  assert.match(duration.stderr, /invalid --client_request_timeout value "5x"/);
});
