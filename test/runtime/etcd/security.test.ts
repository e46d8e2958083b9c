/**
 * The etcd registry against secured etcd servers: password authentication (credentials from
 * MICRO_REGISTRY_USERNAME / MICRO_REGISTRY_PASSWORD) and TLS with client certificates (from
 * MICRO_REGISTRY_TLS_CA / _CERT / _KEY files).
 */
// First: quiets the runtime before it is loaded.
import { startEtcd, type TestServer } from "../../support/servers.js";
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { etcdRegistry } from "../../../src/runtime/registry/etcd/index.js";
import type { Registry, ServiceRecord } from "../../../src/runtime/registry/index.js";
import { makeTestPki, type TestPki } from "../../support/servers-tls.js";

const record: ServiceRecord = {
  name: "secure",
  version: "1",
  metadata: {},
  endpoints: [],
  nodes: [{ id: "s-1", address: "127.0.0.1:1", metadata: {} }],
};

/** Build a registry with some MICRO_* variables set (the registry reads them when it is created). */
function withEnv(env: Record<string, string>, make: () => Registry): Registry {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return make();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("etcd registry against secured etcd (real etcd)", () => {
  const servers: TestServer[] = [];
  const registries: Registry[] = [];
  let pki: TestPki | undefined;

  after(async () => {
    await Promise.all(registries.map((r) => r.close()));
    await Promise.all(servers.map((s) => s.dispose()));
    await pki?.remove();
  });

  it("authenticates with MICRO_REGISTRY_USERNAME / MICRO_REGISTRY_PASSWORD; a wrong password is a 401", async () => {
    const etcd = await startEtcd();
    servers.push(etcd);
    const admin = new Etcd3({ hosts: etcd.address });
    try {
      await admin.role("root").create();
      const root = await admin.user("root").create("s3cret");
      await root.addRole("root");
      await admin.auth.authEnable();
    } finally {
      admin.close();
    }
    const address = etcd.address.replace("http://", "");

    const good = withEnv({ MICRO_REGISTRY_USERNAME: "root", MICRO_REGISTRY_PASSWORD: "s3cret" }, () => etcdRegistry({ address }));
    registries.push(good);
    await good.register(record, { ttl: 30 });
    assert.deepEqual((await good.getService("secure")).flatMap((s) => s.nodes.map((n) => n.id)), ["s-1"]);

    const bad = withEnv({ MICRO_REGISTRY_USERNAME: "root", MICRO_REGISTRY_PASSWORD: "wrong" }, () => etcdRegistry({ address }));
    registries.push(bad);
    await assert.rejects(bad.getService("secure"), (e: unknown) => e instanceof MicroError && e.code === 401 && /MICRO_REGISTRY_PASSWORD/.test(e.detail));

    const anonymous = etcdRegistry({ address });
    registries.push(anonymous);
    await assert.rejects(anonymous.getService("secure"), (e: unknown) => e instanceof MicroError && (e.code === 401 || e.code === 403));
  });

  it("speaks TLS with a client certificate from MICRO_REGISTRY_TLS_CA / _CERT / _KEY", async () => {
    pki = await makeTestPki();
    const etcd = await startEtcd({ tls: pki });
    servers.push(etcd);
    const address = etcd.address.replace("https://", "");

    const registry = withEnv(
      { MICRO_REGISTRY_TLS_CA: pki.ca, MICRO_REGISTRY_TLS_CERT: pki.clientCert, MICRO_REGISTRY_TLS_KEY: pki.clientKey },
      () => etcdRegistry({ address }),
    );
    registries.push(registry);
    await registry.register(record, { ttl: 30 });
    assert.deepEqual((await registry.getService("secure")).flatMap((s) => s.nodes.map((n) => n.id)), ["s-1"]);

    // Without a client certificate the server refuses the connection: a prompt 503, not a hang.
    const noCert = etcdRegistry({ address, tls: { ca: pki.ca }, timeout: 2000 });
    registries.push(noCert);
    await assert.rejects(noCert.getService("secure"), (e: unknown) => e instanceof MicroError && e.code === 503);

    assert.throws(() => etcdRegistry({ address, tls: { cert: pki!.clientCert } }), /both a client certificate and its key/);
    assert.throws(() => etcdRegistry({ address, tls: { ca: "/nonexistent/ca.pem" } }), /cannot read the etcd TLS CA file/);
  });
});
