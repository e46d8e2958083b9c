/**
 * Python's grpcio (Debian's, through /usr/bin/python3) as a client of a micro-ts grpc service — unary, the
 * stream kinds, deadline exceeded, cancel, an error's status and message, metadata both ways, a 3 MB message,
 * gzip, TLS and mTLS — and as a server a micro-ts client calls by its full gRPC path.
 * The Python side is test/fixtures/grpc/greeter_peer.py (generic handlers, hand-encoded protobuf).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readFile } from "node:fs/promises";
import { MicroError } from "../../../../src/index.js";
import { Fixture } from "../../../support/process.js";
import { makeTestPki, type TestPki } from "../../../support/servers-tls.js";
import { microGrpcClient, startMicroGreeter, targets, until, type MicroGreeter } from "./greeter.js";

const PYTHON = "/usr/bin/python3";
// build/test/runtime/transport/grpc -> the repository's test/fixtures/grpc
const SCRIPT = fileURLToPath(new URL("../../../../../test/fixtures/grpc/greeter_peer.py", import.meta.url));

function python(args: string[]): Fixture {
  return new Fixture(spawn(PYTHON, [SCRIPT, ...args], { stdio: ["pipe", "pipe", "pipe"] }));
}

async function finished(p: Fixture): Promise<void> {
  await p.waitFor((e) => e.case === "done", 60_000);
  const failed = p.events.filter((e) => e.ok === false);
  assert.deepEqual(failed, [], `python cases failed: ${JSON.stringify(failed)}; stderr: ${p.stderr.slice(-2000)}`);
}

describe("grpcio (Python) client -> micro-ts grpc server", () => {
  let micro: MicroGreeter;
  before(async () => {
    micro = await startMicroGreeter();
  });
  after(async () => {
    await micro.stop();
  });

  test("unary with metadata, streams, deadline, cancel, errors, 3 MB and gzip", async () => {
    const p = python(["client", micro.address]);
    try {
      await p.waitFor((e) => e.case === "cancel-started", 60_000);
      await until(() => micro.seen.started.has("sleep:20000:py-cancel"), 20_000, "the handler of the call Python cancels");
      p.proc.stdin!.write("go\n");
      await finished(p);
      for (const c of ["unary", "streams", "deadline", "cancel", "error", "big", "gzip"]) assert.ok(p.events.some((e) => e.case === c && e.ok === true), `case ${c} passed`);
      await until(() => micro.seen.aborted.has("sleep:20000:py-deadline") && micro.seen.aborted.has("sleep:20000:py-cancel"), 20_000, "the handlers' signals");
      assert.equal(micro.seen.aborted.get("sleep:20000:py-deadline"), 408);
      assert.equal(micro.seen.aborted.get("sleep:20000:py-cancel"), 499);
    } finally {
      p.proc.kill();
      await p.exited;
    }
  });

  describe("TLS", () => {
    let pki: TestPki;
    before(async () => {
      pki = await makeTestPki();
    });
    after(async () => {
      await pki?.remove();
    });

    test("a TLS server and an mTLS server answer Python over TLS; mTLS refuses Python without a certificate", async () => {
      const [cert, key, ca] = await Promise.all([readFile(pki.serverCert), readFile(pki.serverKey), readFile(pki.ca)]);
      const tls = await startMicroGreeter({ tls: { cert, key } });
      const mtls = await startMicroGreeter({ tls: { cert, key, ca } });
      try {
        const a = python(["client", tls.address, "--ca", pki.ca]);
        await finished(a);
        const b = python(["client", mtls.address, "--ca", pki.ca, "--cert", pki.clientCert, "--key", pki.clientKey]);
        await finished(b);
        const c = python(["client", mtls.address, "--ca", pki.ca]);
        await c.waitFor((e) => e.case === "done", 60_000);
        assert.ok(c.events.some((e) => e.case === "unary" && e.ok === false && /UNAVAILABLE/.test(String(e.error))), JSON.stringify(c.events));
      } finally {
        await tls.stop();
        await mtls.stop();
      }
    });
  });
});

describe("micro-ts client -> grpcio (Python) server", () => {
  let p: Fixture;
  let address: string;
  const client = microGrpcClient();
  const gzip = microGrpcClient({ compression: "gzip" });
  before(async () => {
    p = python(["server"]);
    const ready = await p.waitFor((e) => typeof e.port === "number", 60_000);
    address = `127.0.0.1:${String(ready.port)}`;
  });
  after(async () => {
    client.close();
    gzip.close();
    p.proc.stdin!.end();
    await p.exited;
  });

  test("unary with metadata both ways, streams, an error, 3 MB and gzip", async () => {
    let md: Record<string, string> | undefined;
    const rsp = await client.call(targets.hello, { name: "ts" }, { address, metadata: { "x-echo": "py" }, onResponseMetadata: (m) => (md = m) });
    assert.equal(rsp.message, "python says hello ts");
    assert.equal(md?.["x-echo"], "py");
    assert.equal(md?.["x-from"], "python");

    const got: string[] = [];
    for await (const m of client.serverStream(targets.stream, { name: "count:3" }, { address })) got.push(m.message);
    assert.deepEqual(got, ["0", "1", "2"]);
    async function* names(...list: string[]) {
      for (const name of list) yield { name };
    }
    assert.equal((await client.clientStream(targets.upload, names("u", "v"), { address })).message, "u,v");
    const echoes: string[] = [];
    for await (const m of client.bidiStream(targets.chat, names("k", "l"), { address })) echoes.push(m.message);
    assert.deepEqual(echoes, ["echo k", "echo l"]);

    await assert.rejects(client.call(targets.hello, { name: "error:not ready" }, { address }), (e: unknown) => e instanceof MicroError && e.code === 412 && e.detail === "not ready");
    assert.equal((await client.call(targets.hello, { name: `big:${3 * 1024 * 1024}` }, { address, timeout: 30_000 })).message.length, 3 * 1024 * 1024);
    assert.equal((await gzip.clientStream(targets.upload, names("g".repeat(100_000)), { address })).message.length, 100_000);
  });

  test("deadline and cancel reach the Python handler", async () => {
    await assert.rejects(client.call(targets.hello, { name: "sleep-deadline" }, { address, timeout: 300 }), (e: unknown) => e instanceof MicroError && e.code === 408);
    await p.waitFor((e) => e.event === "aborted" && e.name === "sleep-deadline", 30_000);
    const ac = new AbortController();
    const call = client.call(targets.hello, { name: "sleep-cancel" }, { address, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(call, (e: unknown) => e instanceof MicroError && e.code === 499);
    await p.waitFor((e) => e.event === "aborted" && e.name === "sleep-cancel", 30_000);
  });
});
