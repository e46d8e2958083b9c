/**
 * TLS through the whole runtime, with real processes on one local registry: a greeter node serving mutual TLS
 * (configured only by MICRO_TRANSPORT_TLS_* variables) and a plaintext greeter node form a mixed fleet. A
 * client with TLS flags reaches both (each dialled as its registry metadata says), publishes to both through
 * the direct broker, and streams over TLS; a client without TLS gets an error saying the node serves TLS; bad
 * TLS flags are a 400 naming the flag.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localRegistry } from "../../../src/runtime/registry/local/index.js";
import { MicroError, newService, type Registry, type Service } from "../../../src/index.js";
import { Greeter } from "../../fixtures/runtime/greeter.js";
import { startGreeter, tempRegistry, type Fixture } from "../../fixtures/runtime/harness.js";
import { makeCerts, type TestCerts } from "../../support/certs.js";

const reg = tempRegistry();
const certDir = mkdtempSync(join(tmpdir(), "micro-service-tls-"));
let certs: TestCerts;
const nodes: Fixture[] = [];
const services: Service[] = [];
let registry: Registry;
let secureAddress = "";
const hello = { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello };
const stream = { service: "greeter", endpoint: "Greeter.Stream", method: Greeter.methods.stream };

function client(name: string, argv: string[]): Service {
  const s = newService({ name, argv: ["--registry_address", reg.dir, ...argv], env: {} });
  s.init();
  services.push(s);
  return s;
}

const clientTlsFlags = (): string[] => ["--transport_tls_ca", certs.ca.certFile, "--transport_tls_cert", certs.client.certFile, "--transport_tls_key", certs.client.keyFile];

before(async () => {
  certs = makeCerts(certDir);
  const tlsEnv = { MICRO_TRANSPORT_TLS_CERT: certs.server.certFile, MICRO_TRANSPORT_TLS_KEY: certs.server.keyFile, MICRO_TRANSPORT_TLS_CA: certs.ca.certFile };
  const [secure, plain] = await Promise.all([
    startGreeter(["--registry_address", reg.dir], { ...tlsEnv, NODE_TAG: "secure", SUBSCRIBE: "events" }),
    startGreeter(["--registry_address", reg.dir], { NODE_TAG: "plain", SUBSCRIBE: "events" }),
  ]);
  nodes.push(secure.node, plain.node);
  secureAddress = secure.address;
  registry = localRegistry({ address: reg.dir, pollInterval: 100 });
});

after(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await registry?.close();
  for (const n of nodes) n.kill();
  await Promise.all(nodes.map((n) => n.exited));
  reg.remove();
  rmSync(certDir, { recursive: true, force: true });
});

test("the node serving TLS records secure: true in the registry, the plaintext one does not", async () => {
  const [record] = await registry.getService("greeter");
  const byAddress = new Map(record!.nodes.map((n) => [n.address, n.metadata]));
  assert.equal(byAddress.size, 2);
  assert.equal(byAddress.get(secureAddress)?.secure, "true");
  for (const [address, metadata] of byAddress) if (address !== secureAddress) assert.equal(metadata?.secure, undefined);
});

test("a client with TLS flags calls both nodes of a mixed fleet, each as its metadata says, streams included", async () => {
  const c = client("tls-caller", clientTlsFlags());
  const seen = new Set<string>();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    const rsp = (await c.client().call(hello, { name: "x" })) as { message: string };
    seen.add(rsp.message.replace(/^Hello x from /, ""));
  }
  assert.deepEqual([...seen].sort(), ["plain", "secure"]);
  const got: string[] = [];
  for await (const m of c.client().serverStream(stream, { name: "count:3" }, { address: secureAddress, metadata: { "x-test": "tls-stream" } })) got.push((m as { message: string }).message);
  assert.deepEqual(got, ["0", "1", "2"]);
});

test("the direct broker delivers over TLS to the TLS subscriber and in plaintext to the plain one", async () => {
  const c = client("tls-publisher", clientTlsFlags());
  await c.client().publish("events", { n: 1 });
  for (const n of nodes) assert.deepEqual((await n.waitFor((e) => e.event === "message" && e.topic === "events")).message, { n: 1 });
});

test("a client without TLS calling the TLS node is told it serves TLS and which flag to set", async () => {
  const c = client("plain-caller", ["--client_retries", "0"]);
  // Through the registry record (secure: true) …
  const [record] = await registry.getService("greeter");
  const secureNode = record!.nodes.find((n) => n.address === secureAddress)!;
  const viaRegistry = newService({ name: "plain-only", argv: ["--registry", "memory", "--client_retries", "0"], env: {} });
  viaRegistry.init();
  services.push(viaRegistry);
  const { registry: memory } = await viaRegistry.plugins();
  await memory.register({ ...record!, nodes: [secureNode] });
  await assert.rejects(viaRegistry.client().call(hello, { name: "x" }), (e: unknown) => {
    assert.ok(e instanceof MicroError);
    assert.match(e.detail, new RegExp(`node ${secureAddress} serves TLS \\(secure: true\\) but this client has no TLS configured: set --transport_tls_ca`));
    return true;
  });
  // … and at a fixed address (no metadata): the node's refusal.
  await assert.rejects(c.client().call(hello, { name: "x" }, { address: secureAddress }), (e: unknown) => {
    assert.ok(e instanceof MicroError);
    assert.match(e.detail, /this node serves TLS and the connection is plaintext/);
    return true;
  });
});

test("a TLS client without a client certificate is refused by the mTLS node, saying so", async () => {
  const c = client("no-cert-caller", ["--transport_tls_ca", certs.ca.certFile, "--client_retries", "0"]);
  await assert.rejects(c.client().call(hello, { name: "x" }, { address: secureAddress }), (e: unknown) => {
    assert.ok(e instanceof MicroError);
    assert.match(e.detail, /requires a client certificate \(mTLS\)/);
    return true;
  });
});

test("bad TLS flags are a 400 naming the flag: a missing file, a certificate without its key", async () => {
  const missing = newService({ name: "bad", argv: ["--registry", "memory", "--transport_tls_ca", join(certDir, "nope.pem")], env: {} });
  await assert.rejects(missing.plugins(), (e: unknown) => e instanceof MicroError && e.code === 400 && /--transport_tls_ca ".*nope\.pem" cannot be read/.test(e.detail));
  const halfPair = newService({ name: "bad", argv: ["--registry", "memory"], env: { MICRO_TRANSPORT_TLS_CERT: certs.server.certFile } });
  await assert.rejects(halfPair.plugins(), (e: unknown) => e instanceof MicroError && e.code === 400 && /--transport_tls_cert is set without --transport_tls_key: give both/.test(e.detail));
});
