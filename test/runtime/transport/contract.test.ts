/**
 * What every transport does, run over each kit in {@link kits} (tcp, tcp with mutual TLS, and grpc). A new
 * transport adds a kit here; its wire-specific tests (framing, flow control, keepalive…) get their own file,
 * like tcp.test.ts.
 */
import { test, describe, before, after } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { MicroError } from "../../../src/runtime/errors/index.js";
import type { Connection, Listener, StreamHandler, Transport } from "../../../src/runtime/transport/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { grpcTransport } from "../../../src/runtime/transport/grpc/index.js";
import { enc, header, readAll, router, until } from "./helpers.js";
import { makeCerts } from "../../support/certs.js";

/** How the suite makes a transport and where it listens. */
export interface TransportKit {
  name: string;
  transport(): Transport;
  /** An address that listens on a free local port. */
  address: string;
  /**
   * The client learns the server's message limit and refuses an oversized send itself (tcp's SETTINGS); gRPC
   * has no such announcement, so there the server refuses the message and the stream ends with the 413.
   */
  knowsPeerLimit: boolean;
}

/**
 * tcp with mutual TLS: one transport both serves (requiring client certificates signed by the test CA) and
 * dials (verifying the server, presenting the server certificate, which is also valid for client auth).
 */
function tcpTls(): Transport {
  const dir = mkdtempSync(join(tmpdir(), "micro-contract-tls-"));
  try {
    const certs = makeCerts(dir);
    return tcpTransport({ tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const kits: readonly TransportKit[] = [
  { name: "tcp", transport: () => tcpTransport(), address: "127.0.0.1:0", knowsPeerLimit: true },
  { name: "tcp+tls", transport: tcpTls, address: "127.0.0.1:0", knowsPeerLimit: true },
  { name: "grpc", transport: () => grpcTransport(), address: "127.0.0.1:0", knowsPeerLimit: false },
];

for (const kit of kits) {
  describe(`transport contract: ${kit.name}`, () => {
    let transport: Transport;
    let listener: Listener;
    let conn: Connection;
    const seen: { signalAborted?: unknown; deadline?: number; hanging: number } = { hanging: 0 };
    const handler: StreamHandler = router({
      async "Test.Unary"(s) {
        const msgs = await readAll(s);
        await s.send(enc(`hello ${msgs.join(",")} (${s.header.metadata["x-req"] ?? "-"})`));
        s.close(undefined, { served: "yes" });
      },
      async "Test.Count"(s) {
        const [n] = await readAll(s);
        for (let i = 0; i < Number(n); i++) await s.send(enc(String(i)));
        s.close();
      },
      async "Test.Fail"(s) {
        s.close(new MicroError("test.fail", 404, "no such thing"), { why: "because" });
      },
      async "Test.Hang"(s) {
        seen.deadline = s.header.deadline;
        seen.hanging += 1;
        await new Promise<void>((resolve) => s.signal.addEventListener("abort", () => resolve()));
        seen.signalAborted = s.signal.reason;
      },
    });

    before(async () => {
      transport = kit.transport();
      listener = await transport.listen(kit.address, handler);
      conn = await transport.dial(listener.address);
    });
    after(async () => {
      conn.close();
      await listener.close(0);
    });

    test("unary round trip with metadata both ways", async () => {
      const s = conn.openStream(header("Test.Unary", "unary", { metadata: { "x-req": "1" } }));
      await s.send(enc("John"));
      s.closeSend();
      assert.deepEqual(await readAll(s), ["hello John (1)"]);
      const t = await s.trailer;
      assert.equal(t.error, undefined);
      assert.deepEqual(t.metadata, { served: "yes" });
    });

    test("server streaming", async () => {
      const s = conn.openStream(header("Test.Count", "server_streaming"));
      await s.send(enc("5"));
      s.closeSend();
      assert.deepEqual(await readAll(s), ["0", "1", "2", "3", "4"]);
    });

    test("errors cross in the trailer as MicroError with metadata", async () => {
      const s = conn.openStream(header("Test.Fail"));
      s.closeSend();
      await assert.rejects(readAll(s), (e: unknown) => e instanceof MicroError && e.id === "test.fail" && e.code === 404 && e.detail === "no such thing" && e.status === "Not Found");
      const t = await s.trailer;
      assert.equal(t.error?.code, 404);
      assert.deepEqual(t.metadata, { why: "because" });
    });

    test("deadline reaches the server signal and fails the client with 408", async () => {
      seen.signalAborted = undefined;
      const s = conn.openStream(header("Test.Hang", "unary", { deadline: Date.now() + 150 }));
      s.closeSend();
      await assert.rejects(readAll(s), (e: unknown) => e instanceof MicroError && e.code === 408);
      assert.equal(typeof seen.deadline, "number");
      await until(() => seen.signalAborted !== undefined, 5000, "server signal");
      assert.equal((seen.signalAborted as MicroError).code, 408);
    });

    test("cancel from the client aborts the server signal", async () => {
      seen.signalAborted = undefined;
      const before = seen.hanging;
      const s = conn.openStream(header("Test.Hang", "unary"));
      s.closeSend();
      await until(() => seen.hanging > before, 5000, "the handler");
      s.cancel("changed my mind");
      await assert.rejects(readAll(s), (e: unknown) => e instanceof MicroError && e.code === 499);
      await until(() => seen.signalAborted !== undefined, 5000, "server signal");
      assert.equal((seen.signalAborted as MicroError).code, 499);
    });

    test("a message over the peer's limit fails with 413 and the connection stays usable", async () => {
      const small = await transport.listen(kit.address, handler, { maxMessageSize: 1024 });
      const c = await transport.dial(small.address);
      try {
        const s = c.openStream(header("Test.Unary"));
        const sent = s.send(new Uint8Array(2048));
        if (kit.knowsPeerLimit) await assert.rejects(sent, (e: unknown) => e instanceof MicroError && e.code === 413);
        else await sent.catch((e: unknown) => assert.equal((e as MicroError).code, 413));
        assert.equal((await s.trailer).error?.code, 413);
        const ok = c.openStream(header("Test.Unary"));
        await ok.send(enc("small"));
        ok.closeSend();
        assert.deepEqual((await readAll(ok)).map((m) => m.startsWith("hello small")), [true]);
      } finally {
        c.close();
        await small.close(0);
      }
    });
  });
}
