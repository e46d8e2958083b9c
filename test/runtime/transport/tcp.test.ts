import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { dec, enc, header, pair, readAll, router, until, type Pair } from "./helpers.js";

/** The tcp transport beyond the contract every transport keeps (contract.test.ts): its streams and edge cases. */
describe("tcp transport: calls and streams", () => {
  let p: Pair;
  const seen: { signalAborted?: unknown; deadline?: number; infiniteAborted?: unknown } = {};
  before(async () => {
    p = await pair(
      router({
        async Echo(s) {
          for await (const m of s) await s.send(m);
          s.close(undefined, { "x-reply": s.header.metadata["x-req"] ?? "" });
        },
        async Unary(s) {
          const msgs = await readAll(s);
          await s.send(enc(`hello ${msgs.join(",")}`));
          s.close(undefined, { served: "yes" });
        },
        async Sum(s) {
          let sum = 0;
          for await (const m of s) sum += Number(dec(m));
          await s.send(enc(String(sum)));
          s.close();
        },
        async Burst(s) {
          // No awaiting: everything beyond the window queues in the stream, and close() waits behind it.
          const chunk = new Uint8Array(1024);
          for (let i = 0; i < 1000; i++) void s.send(chunk);
          s.close(undefined, { sent: "1000" });
        },
        async Infinite(s) {
          let i = 0;
          try {
            while (!s.signal.aborted) await s.send(enc(String(i++)));
          } catch {
            // sends fail once the client cancelled
          }
          seen.infiniteAborted = s.signal.reason;
        },
        async EarlyClose(s) {
          const it = s[Symbol.asyncIterator]();
          await it.next();
          s.close(new MicroError("test.early", 400, "enough"));
        },
        async Hang(s) {
          seen.deadline = s.header.deadline;
          await new Promise<void>((resolve) => s.signal.addEventListener("abort", () => resolve()));
          seen.signalAborted = s.signal.reason;
        },
      }),
    );
  });
  after(async () => p.close());

  test("empty messages are messages (a half-close right after one keeps it)", async () => {
    for (const n of [1, 3]) {
      const s = p.conn.openStream(header("Echo", "bidi_streaming"));
      for (let i = 0; i < n; i++) await s.send(new Uint8Array(0));
      s.closeSend();
      const got: Uint8Array[] = [];
      for await (const m of s) got.push(m);
      assert.equal(got.length, n);
      assert.ok(got.every((m) => m.length === 0));
    }
    // Sent without awaiting, then half-closed at once.
    const s = p.conn.openStream(header("Echo", "bidi_streaming"));
    void s.send(new Uint8Array(0));
    void s.send(new Uint8Array(0));
    s.closeSend();
    assert.deepEqual(await readAll(s), ["", ""]);
  });

  test("a handler that sends without awaiting and closes at once loses nothing", async () => {
    const s = p.conn.openStream(header("Burst", "server_streaming"));
    s.closeSend();
    let n = 0;
    for await (const m of s) {
      assert.equal(m.length, 1024);
      n++;
    }
    assert.equal(n, 1000);
    assert.deepEqual((await s.trailer).metadata, { sent: "1000" });
  });

  test("client streaming", async () => {
    const s = p.conn.openStream(header("Sum", "client_streaming"));
    for (let i = 1; i <= 10; i++) await s.send(enc(String(i)));
    s.closeSend();
    assert.deepEqual(await readAll(s), ["55"]);
  });

  test("bidi streaming echoes and returns request metadata", async () => {
    const s = p.conn.openStream(header("Echo", "bidi_streaming", { metadata: { "x-req": "ping" } }));
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      await s.send(enc(`m${i}`));
      const r = await s[Symbol.asyncIterator]().next();
      got.push(dec(r.value as Uint8Array));
    }
    s.closeSend();
    assert.deepEqual(await readAll(s), []);
    assert.deepEqual(got, ["m0", "m1", "m2"]);
    assert.deepEqual((await s.trailer).metadata, { "x-reply": "ping" });
  });

  test("a deadline far in the future is no deadline (no timer overflow)", async () => {
    const s = p.conn.openStream(header("Unary", "unary", { deadline: Date.now() + 1e12 }));
    await s.send(enc("far"));
    s.closeSend();
    assert.deepEqual(await readAll(s), ["hello far"]);
  });

  test("a deadline already passed fails at once without reaching the server", async () => {
    const s = p.conn.openStream(header("Hang", "unary", { deadline: Date.now() - 1 }));
    assert.equal((await s.trailer).error?.code, 408);
    assert.equal(p.conn.activeStreams, 0);
  });

  test("breaking out of the response loop cancels the stream", async () => {
    const s = p.conn.openStream(header("Infinite", "server_streaming"));
    s.closeSend();
    let n = 0;
    for await (const _ of s) if (++n === 3) break;
    await until(() => seen.infiniteAborted !== undefined, 5000, "server signal");
    assert.equal((await s.trailer).error?.code, 499);
  });

  test("the server can end a stream early while the client is still sending", async () => {
    const s = p.conn.openStream(header("EarlyClose", "client_streaming"));
    await s.send(enc("1"));
    await assert.rejects(readAll(s), (e: unknown) => e instanceof MicroError && e.id === "test.early");
    await assert.rejects(s.send(enc("2")));
  });

  test("streams beyond the server's limit wait for a slot instead of breaking the connection", async () => {
    const small = await pair(router({ async Unary(s) { const m = await readAll(s); await s.send(enc(`hello ${m.join(",")}`)); s.close(); } }), { maxConcurrentStreams: 2 });
    try {
      const streams = Array.from({ length: 20 }, (_, i) => {
        const s = small.conn.openStream(header("Unary"));
        if (i % 2 === 0) void s.send(enc(String(i)));
        s.closeSend();
        return s;
      });
      assert.equal(small.conn.activeStreams, 20);
      const out = await Promise.all(streams.map((s) => readAll(s)));
      out.forEach((o, i) => assert.deepEqual(o, [i % 2 === 0 ? `hello ${i}` : "hello "]));
      assert.equal(small.conn.closed, false);
    } finally {
      await small.close();
    }
  });

  test("large messages (beyond the window and the copy limit) and unicode metadata cross intact", async () => {
    const big = new Uint8Array(1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const s = p.conn.openStream(header("Echo", "bidi_streaming", { metadata: { "x-req": "grüße ✓ 日本" } }));
    const sending = (async () => {
      for (let i = 0; i < 3; i++) await s.send(big);
      s.closeSend();
    })();
    const got: Uint8Array[] = [];
    for await (const m of s) got.push(m);
    await sending;
    assert.equal(got.length, 3);
    for (const m of got) assert.ok(Buffer.from(m).equals(Buffer.from(big)));
    assert.deepEqual((await s.trailer).metadata, { "x-reply": "grüße ✓ 日本" });
  });

  test("many concurrent streams on one connection", async () => {
    const calls = Array.from({ length: 200 }, async (_, i) => {
      const s = p.conn.openStream(header("Unary"));
      await s.send(enc(String(i)));
      s.closeSend();
      return (await readAll(s))[0];
    });
    const results = await Promise.all(calls);
    results.forEach((r, i) => assert.equal(r, `hello ${i}`));
    assert.equal(p.conn.activeStreams, 0);
  });
});
