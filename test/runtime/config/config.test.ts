import { test } from "node:test";
import assert from "node:assert/strict";
import { MicroError, globalFlags, newService, parseDuration, readConfig, resolvePlugins } from "../../../src/index.js";

/** Matches a thrown error by its message (MicroError's toString is its JSON form). */
const msg = (re: RegExp) => (e: unknown) => e instanceof Error && re.test(e.message);

test("flags win over MICRO_* variables; both are read", () => {
  const v = readConfig(["--registry", "etcd", "--register_ttl=12", "--client_request_timeout", "250ms", "positional", "--unrelated", "x"], {
    MICRO_REGISTRY: "memory",
    MICRO_BROKER: "nats",
    MICRO_CLIENT_RETRIES: "4",
  });
  assert.equal(v.registry, "etcd");
  assert.equal(v.broker, "nats");
  assert.equal(v.register_ttl, 12);
  assert.equal(v.client_retries, 4);
  assert.equal(v.client_request_timeout, 250);
});

test("durations take Go's form or bare milliseconds", () => {
  assert.equal(parseDuration("5s"), 5000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("750"), 750);
  assert.throws(() => parseDuration("5 parsecs"), msg(/invalid duration "5 parsecs".*5s, 250ms/));
});

test("malformed values and missing values are clear errors", () => {
  assert.throws(() => readConfig(["--register_ttl", "soon"], {}), (e: unknown) => e instanceof MicroError && /--register_ttl value "soon": expected a whole number/.test(e.detail));
  assert.throws(() => readConfig(["--registry"], {}), msg(/flag --registry needs a value/));
  assert.throws(() => readConfig([], { MICRO_CLIENT_POOL_SIZE: "-1" }), msg(/MICRO_CLIENT_POOL_SIZE value "-1"/));
});

test("code options win over flags, flags over the environment", () => {
  const env = { MICRO_SERVER_NAME: "from-env", MICRO_REGISTER_TTL: "30", MICRO_CLIENT_RETRIES: "2", MICRO_SERVER_ADDRESS: "127.0.0.1:7001" };
  const argv = ["--server_name", "from-flag", "--register_ttl", "20"];
  const coded = newService({ name: "from-code", registerTTL: 10, argv, env });
  coded.init();
  assert.equal(coded.options().name, "from-code");
  assert.equal(coded.options().registerTTL, 10);
  assert.equal(coded.options().retries, 2);
  assert.equal(coded.options().address, "127.0.0.1:7001");

  const flagged = newService({ argv, env });
  flagged.init();
  assert.equal(flagged.options().name, "from-flag");
  assert.equal(flagged.options().registerTTL, 20);

  const envOnly = newService({ argv: [], env });
  envOnly.init();
  assert.equal(envOnly.options().name, "from-env");
  assert.equal(envOnly.options().registerTTL, 30);
});

test("an unknown plugin name fails with the list of available ones", async () => {
  for (const [flag, list] of [
    ["registry", "local, memory, etcd"],
    ["broker", "direct, memory, nats"],
    ["transport", "tcp"],
    ["selector", "leastconn, latency, random, roundrobin"],
  ] as const) {
    const service = newService({ name: "x", argv: [`--${flag}`, "nosuch"], env: {} });
    assert.throws(() => service.init(), (e: unknown) => e instanceof MicroError && e.detail.includes(`unknown ${flag} "nosuch"; available: ${list}`));
  }
  await assert.rejects(resolvePlugins({ registry: "nosuch" }), msg(/unknown registry "nosuch"; available: local, memory, etcd/));
});

test("a plugin given in code is used whatever the flags say", async () => {
  const { memoryRegistry } = await import("../../../src/runtime/registry/memory/index.js");
  const registry = memoryRegistry();
  const service = newService({ name: "x", registry, argv: ["--registry", "nosuch", "--broker", "memory"], env: {} });
  service.init();
  const plugins = await service.plugins();
  assert.equal(plugins.registry, registry);
  assert.equal(plugins.broker.name, "memory");
  assert.equal(plugins.transport.name, "tcp");
  await service.stop();
  await registry.close();
});

test("globalFlags name every flag with its MICRO_* variable", () => {
  const names = globalFlags.map((f) => f.name);
  for (const n of ["registry", "registry_address", "transport", "transport_address", "broker", "broker_address", "server_name", "server_address", "server_advertise", "register_ttl", "register_interval", "client_retries", "client_request_timeout", "client_pool_size", "selector"]) {
    assert.ok(names.includes(n as (typeof names)[number]), n);
  }
  for (const f of globalFlags) assert.equal(f.env, `MICRO_${f.name.toUpperCase()}`);
});

test("TLS flags and MICRO_TRANSPORT_TLS_* reach the transport factory: files read, a TLS transport built", async () => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { makeCerts } = await import("../../support/certs.js");
  const { transportOptionsFrom } = await import("../../../src/runtime/config/index.js");
  const dir = mkdtempSync(join(tmpdir(), "micro-config-tls-"));
  try {
    const certs = makeCerts(dir);
    const v = readConfig(["--transport_tls_ca", certs.ca.certFile], { MICRO_TRANSPORT_TLS_CERT: certs.server.certFile, MICRO_TRANSPORT_TLS_KEY: certs.server.keyFile });
    assert.deepEqual([v.transport_tls_cert, v.transport_tls_key, v.transport_tls_ca], [certs.server.certFile, certs.server.keyFile, certs.ca.certFile]);
    const { tls } = transportOptionsFrom(v);
    assert.equal(Buffer.from(tls!.ca as Uint8Array).toString(), certs.ca.cert);
    const plugins = await resolvePlugins({ ...v, registry: "memory", broker: "memory" });
    assert.equal(plugins.transport.secure, true);
    assert.deepEqual(transportOptionsFrom({}), {});
    assert.throws(() => transportOptionsFrom({ transport_tls_key: certs.server.keyFile }), msg(/--transport_tls_key is set without --transport_tls_cert: give both/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
