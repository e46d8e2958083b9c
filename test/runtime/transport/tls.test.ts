/**
 * TLS and mTLS on the tcp transport: a TLS call, mutual TLS, the rejections (no client certificate, a client
 * or server certificate from another CA), and the clear errors when one side speaks plaintext and the other
 * TLS. Streams over TLS are the whole transport contract run over TLS (contract.test.ts, kit "tcp+tls").
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection } from "node:net";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import type { Listener, Transport } from "../../../src/runtime/transport/index.js";
import { secureFromMetadata } from "../../../src/runtime/transport/tls.js";
import { makeCerts, type TestCerts } from "../../support/certs.js";
import { enc, header, readAll, router } from "./helpers.js";

const echo = router({
  async Echo(s) {
    const msgs = await readAll(s);
    await s.send(enc(`echo ${msgs.join(",")}`));
    s.close();
  },
});

async function call(transport: Transport, address: string, secure?: boolean): Promise<string[]> {
  const conn = await transport.dial(address, secure === undefined ? { timeout: 10_000 } : { timeout: 10_000, secure });
  try {
    const s = conn.openStream(header("Echo"));
    await s.send(enc("hi"));
    s.closeSend();
    return await readAll(s);
  } finally {
    conn.close();
  }
}

/** Rejects with a 503 MicroError of the transport whose detail matches `pattern`. */
async function failsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MicroError, `expected a MicroError, got ${String(e)}`);
    assert.equal(e.id, "micro.transport");
    assert.match(e.detail, pattern);
    return true;
  });
}

describe("tcp transport over TLS", () => {
  let dir: string;
  let certs: TestCerts;
  const listeners: Listener[] = [];
  let tlsOnly: Listener;
  let mutual: Listener;
  let plain: Listener;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "micro-tls-"));
    certs = makeCerts(dir);
    const serverTls = tcpTransport({ tls: { cert: certs.server.cert, key: certs.server.key } });
    const serverMtls = tcpTransport({ tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert } });
    assert.equal(serverTls.secure, true);
    assert.equal(tcpTransport().secure, false);
    tlsOnly = await serverTls.listen("127.0.0.1:0", echo);
    mutual = await serverMtls.listen("127.0.0.1:0", echo);
    plain = await tcpTransport().listen("127.0.0.1:0", echo);
    listeners.push(tlsOnly, mutual, plain);
  });
  after(async () => {
    await Promise.all(listeners.map((l) => l.close(0)));
    rmSync(dir, { recursive: true, force: true });
  });

  test("a client trusting the CA calls a TLS listener", async () => {
    assert.deepEqual(await call(tcpTransport({ tls: { ca: certs.ca.cert } }), tlsOnly.address), ["echo hi"]);
  });

  test("mTLS: a client presenting a certificate signed by the server's CA is served", async () => {
    const client = tcpTransport({ tls: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key } });
    assert.deepEqual(await call(client, mutual.address), ["echo hi"]);
  });

  test("mTLS: a client without a certificate is refused, and told to present one", async () => {
    await failsWith(call(tcpTransport({ tls: { ca: certs.ca.cert } }), mutual.address), /requires a client certificate \(mTLS\).*--transport_tls_cert/);
  });

  test("mTLS: a client certificate from another CA is refused", async () => {
    const stranger = tcpTransport({ tls: { ca: certs.ca.cert, cert: certs.otherClient.cert, key: certs.otherClient.key } });
    await failsWith(call(stranger, mutual.address), /refused this client's certificate/);
  });

  test("a server certificate from a CA the client does not trust is refused by the client", async () => {
    const other = await tcpTransport({ tls: { cert: certs.otherServer.cert, key: certs.otherServer.key } }).listen("127.0.0.1:0", echo);
    listeners.push(other);
    await failsWith(call(tcpTransport({ tls: { ca: certs.ca.cert } }), other.address), /not signed by a CA this client trusts.*--transport_tls_ca/);
  });

  test("a plaintext client dialling a TLS listener fails at once and is told the node serves TLS", async () => {
    await failsWith(call(tcpTransport(), tlsOnly.address), /refused the connection: this node serves TLS and the connection is plaintext/);
    // …and the listener still serves TLS clients.
    assert.deepEqual(await call(tcpTransport({ tls: { ca: certs.ca.cert } }), tlsOnly.address), ["echo hi"]);
  });

  test("a TLS client dialling a plaintext listener fails at once and is told the node answered in plaintext", async () => {
    await failsWith(call(tcpTransport({ tls: { ca: certs.ca.cert } }), plain.address), /answered in plaintext: it does not serve TLS/);
    assert.deepEqual(await call(tcpTransport(), plain.address), ["echo hi"]);
  });

  test("dialling a secure node without TLS options fails before connecting, naming the flag", async () => {
    await failsWith(call(tcpTransport(), tlsOnly.address, true), /serves TLS \(secure: true\) but this client has no TLS configured: set --transport_tls_ca/);
  });

  test("a client with TLS dials a node whose metadata says plaintext without TLS (mixed fleet)", async () => {
    const client = tcpTransport({ tls: { ca: certs.ca.cert } });
    assert.deepEqual(await call(client, plain.address, false), ["echo hi"]);
    assert.deepEqual(await call(client, tlsOnly.address, true), ["echo hi"]);
  });

  test("garbage and silence on a TLS port close that connection, and the listener keeps serving", async () => {
    const garbage = createConnection({ host: "127.0.0.1", port: Number(tlsOnly.address.split(":").pop()) });
    await new Promise<void>((resolve) => garbage.once("connect", () => resolve()));
    garbage.on("error", () => {}); // the server may reset it: closing is what is asserted
    garbage.resume();
    garbage.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    await new Promise<void>((resolve) => garbage.once("close", () => resolve()));
    assert.deepEqual(await call(tcpTransport({ tls: { ca: certs.ca.cert } }), tlsOnly.address), ["echo hi"]);
  });

  test("registry metadata decides how a node is dialled", () => {
    assert.equal(secureFromMetadata({ secure: "true", transport: "tcp" }), true);
    assert.equal(secureFromMetadata({ transport: "tcp" }), false);
    assert.equal(secureFromMetadata({ secure: "false" }), false);
    assert.equal(secureFromMetadata({}), undefined);
  });

  test("bad TLS options are a 400 naming what is wrong", () => {
    const bad = (tls: Parameters<typeof tcpTransport>[0], pattern: RegExp) =>
      assert.throws(() => tcpTransport(tls), (e: unknown) => e instanceof MicroError && e.code === 400 && pattern.test(e.detail));
    bad({ tls: { cert: certs.server.cert } }, /tls\.cert is set without tls\.key: give both/);
    bad({ tls: { key: certs.server.key } }, /tls\.key is set without tls\.cert/);
    bad({ tls: { cert: "not a pem", key: certs.server.key } }, /cannot be used/);
    bad({ tls: { cert: certs.server.cert, key: certs.client.key } }, /cannot be used/);
  });
});
