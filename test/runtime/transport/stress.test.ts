/**
 * Races on one connection: hundreds of streams that finish normally, get cancelled at random moments,
 * run into short deadlines or are abandoned mid-stream. Afterwards the connection must still be open
 * and serving, and no stream may be left behind on either side. Seeded (STRESS_SEED to replay).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { MicroError } from "../../../src/runtime/errors/index.js";
import type { ClientStream } from "../../../src/runtime/transport/index.js";
import { enc, header, pair, prng, readAll, router, until, type Pair } from "./helpers.js";

const seed = process.env.STRESS_SEED ? Number(process.env.STRESS_SEED) : (Date.now() ^ process.pid) >>> 0;
let p: Pair | undefined;
after(async () => p?.close());

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("random cancels, deadlines and abandoned streams leave the connection healthy", async (t) => {
  t.diagnostic(`STRESS_SEED=${seed}`);
  const rand = prng(seed);
  let serverOpen = 0;
  p = await pair(
    router({
      async Echo(s) {
        serverOpen++;
        try {
          for await (const m of s) await s.send(m);
          s.close();
        } catch {
          // cancelled or timed out: the stream is gone
        } finally {
          serverOpen--;
        }
      },
      async Slow(s) {
        serverOpen++;
        try {
          const [m] = await readAll(s);
          await tick(Number(m));
          await s.send(enc(`slept ${m}`));
          s.close();
        } catch {
          // cancelled
        } finally {
          serverOpen--;
        }
      },
      async Infinite(s) {
        serverOpen++;
        const chunk = new Uint8Array(512);
        try {
          while (!s.signal.aborted) await s.send(chunk);
        } catch {
          // cancelled
        } finally {
          serverOpen--;
        }
      },
    }),
    { initialWindow: 16 * 1024, maxConcurrentStreams: 64 },
  );
  const conn = p.conn;
  const outcomes = { ok: 0, cancelled: 0, timeout: 0 };
  const expectEnd = async (s: ClientStream, allowed: number[]) => {
    try {
      await readAll(s);
      outcomes.ok++;
    } catch (e) {
      assert.ok(e instanceof MicroError && allowed.includes(e.code), `unexpected ${String(e)} (STRESS_SEED=${seed})`);
      if (e.code === 499) outcomes.cancelled++;
      else outcomes.timeout++;
    }
  };
  const one = async (i: number) => {
    const kind = Math.floor(rand() * 5);
    const delay = Math.floor(rand() * 20);
    switch (kind) {
      case 0: {
        // Normal bidi with a few messages.
        const s = conn.openStream(header("Echo", "bidi_streaming"));
        const n = 1 + Math.floor(rand() * 5);
        for (let k = 0; k < n; k++) await s.send(enc(`${i}.${k}`));
        s.closeSend();
        const got = await readAll(s);
        assert.deepEqual(got, Array.from({ length: n }, (_, k) => `${i}.${k}`));
        outcomes.ok++;
        return;
      }
      case 1: {
        // Cancel at a random moment, maybe before the reply.
        const s = conn.openStream(header("Slow"));
        await s.send(enc(String(delay)));
        s.closeSend();
        setTimeout(() => s.cancel("random"), Math.floor(rand() * 20));
        return expectEnd(s, [499]);
      }
      case 2: {
        // A deadline that may or may not pass first.
        const s = conn.openStream(header("Slow", "unary", { deadline: Date.now() + 1 + Math.floor(rand() * 20) }));
        // The deadline may pass while the stream waits for a slot: then send() rejects with the 408.
        s.send(enc(String(delay))).catch((e: MicroError) => assert.equal(e.code, 408));
        s.closeSend();
        return expectEnd(s, [408]);
      }
      case 3: {
        // Abandon an endless stream after a few messages.
        const s = conn.openStream(header("Infinite", "server_streaming"));
        s.closeSend();
        const stop = 1 + Math.floor(rand() * 50);
        let n = 0;
        for await (const _ of s) if (++n >= stop) break;
        outcomes.cancelled++;
        return;
      }
      default: {
        // Cancel while still sending.
        const s = conn.openStream(header("Echo", "client_streaming"));
        const sends = Math.floor(rand() * 10);
        for (let k = 0; k < sends; k++) await s.send(enc("x"));
        s.cancel();
        await assert.rejects(s.send(enc("late")));
        return expectEnd(s, [499]);
      }
    }
  };
  // 400 streams, at most 100 in flight (more than the server's limit of 64: some wait for a slot).
  let next = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next < 400) await one(next++);
    }),
  );
  assert.equal(conn.closed, false, `connection closed (STRESS_SEED=${seed})`);
  await until(() => conn.activeStreams === 0, 5000, "client streams to drain");
  await until(() => serverOpen === 0, 5000, "server handlers to finish");
  const s = conn.openStream(header("Echo"));
  await s.send(enc("final"));
  s.closeSend();
  assert.deepEqual(await readAll(s), ["final"]);
  assert.ok(outcomes.ok > 0 && outcomes.cancelled > 0, JSON.stringify(outcomes));
});
