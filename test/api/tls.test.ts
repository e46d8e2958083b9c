/**
 * The gateway's backend calls over mutual TLS: `micro api` with client certificate flags calls a service
 * process that serves mTLS; a gateway without TLS flags answers with the error that says the node serves
 * TLS; `micro call` with a TLS flag naming a missing file is a usage error naming the flag.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { micro, startFixture, startGateway, stop, testEnv, type Env, type Fixture } from "../cli/support.js";
import { makeCerts, type TestCerts } from "../support/certs.js";

let env: Env;
let remove: () => void;
const procs: Fixture[] = [];
const certDir = mkdtempSync(join(tmpdir(), "micro-api-tls-"));
let certs: TestCerts;

before(async () => {
  ({ env, remove } = testEnv());
  certs = makeCerts(certDir);
  const g = await startFixture("greeter-service", {
    ...env,
    MICRO_TRANSPORT_TLS_CERT: certs.server.certFile,
    MICRO_TRANSPORT_TLS_KEY: certs.server.keyFile,
    MICRO_TRANSPORT_TLS_CA: certs.ca.certFile,
  });
  procs.push(g.proc);
});

after(async () => {
  await Promise.all(procs.map((p) => stop(p)));
  remove();
  rmSync(certDir, { recursive: true, force: true });
});

const post = (url: string, body: string) => fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });

test("micro api with client certificate flags calls an mTLS service", async () => {
  const gw = await startGateway(env, ["--transport_tls_ca", certs.ca.certFile, "--transport_tls_cert", certs.client.certFile, "--transport_tls_key", certs.client.keyFile]);
  procs.push(gw.proc);
  const r = await post(`${gw.url}/greeter/hello`, '{"name":"Secure"}');
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { message: "Hello Secure" });
});

test("micro api without TLS answers with an error saying the node serves TLS", async () => {
  const gw = await startGateway({ ...env, MICRO_CLIENT_RETRIES: "0" });
  procs.push(gw.proc);
  const r = await post(`${gw.url}/greeter/hello`, '{"name":"Plain"}');
  assert.ok(r.status >= 500, `status ${r.status}`);
  const body = (await r.json()) as { detail: string };
  assert.match(body.detail, /serves TLS \(secure: true\) but this client has no TLS configured: set --transport_tls_ca/);
});

test("micro call with a TLS flag naming a missing file is a usage error naming the flag", async () => {
  const r = await micro(["call", "--transport_tls_cert", join(certDir, "missing.crt"), "--transport_tls_key", certs.client.keyFile, "greeter", "Greeter.Hello", "{}"], env);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--transport_tls_cert ".*missing\.crt" cannot be read/);
});
