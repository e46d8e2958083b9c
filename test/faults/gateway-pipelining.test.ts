/**
 * Clients that pipeline requests and never read (issue 11, "Slow and misbehaving peers"): 50 raw TCP
 * clients write keep-alive POSTs to a real gateway process (in front of a real service process) as fast as
 * the gateway takes them, and never read a byte. The gateway must stop reading them (its memory stays
 * bounded), keep answering a well-behaved client meanwhile, and close the connections that never read once
 * their unsent responses have not moved for `stallTimeout`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { startFixture, stop, testEnv, type Env, type Fixture } from "../cli/support.js";

const CLIENTS = 50;
const FLOOD_MS = 4000;
const STALL_TIMEOUT = 2000;
const MiB = 2 ** 20;

let env: Env;
let remove: () => void;
let service: Fixture;
let gateway: Fixture;
let host: string;
let port: number;

before(async () => {
  ({ env, remove } = testEnv());
  service = (await startFixture("greeter-service", env)).proc;
  const gw = await startFixture("gateway-process", { ...env, GATEWAY_BACKPRESSURE: JSON.stringify({ stallTimeout: STALL_TIMEOUT }) }, [], ["--expose-gc"]);
  gateway = gw.proc;
  host = gw.address.slice(0, gw.address.lastIndexOf(":"));
  port = Number(gw.address.slice(gw.address.lastIndexOf(":") + 1));
});

after(async () => {
  await Promise.all([stop(gateway), stop(service)]);
  remove();
});

/** The gateway's `process.memoryUsage()` (after a full GC), over IPC. */
function memory(): Promise<NodeJS.MemoryUsage> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown): void => {
      if ((m as { event?: string }).event !== "memory") return;
      gateway.proc.off("message", onMessage);
      resolve(m as NodeJS.MemoryUsage);
    };
    gateway.proc.on("message", onMessage);
    gateway.proc.send("memory");
  });
}

const body = JSON.stringify({ name: "x".repeat(32 * 1024) });
const pipelined = Buffer.from(`POST /greeter/hello HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

interface Flooder {
  /** Bytes of requests the gateway's side took (written to the socket without waiting). */
  written: number;
  closedAt: number | undefined;
  socket: Socket;
}

/** A client that writes pipelined requests as fast as they are taken, never reads, until `stopped`. */
function flooder(stopped: Promise<void>): Promise<Flooder> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const f: Flooder = { written: 0, closedAt: undefined, socket };
    socket.once("error", () => {});
    socket.once("close", () => (f.closedAt = Date.now()));
    socket.once("connect", () => {
      socket.pause(); // never reads
      resolve(f);
      void (async () => {
        let done = false;
        void stopped.then(() => (done = true));
        while (!done && !socket.destroyed) {
          f.written += pipelined.length;
          if (!socket.write(pipelined)) await Promise.race([new Promise((r) => socket.once("drain", r)), new Promise((r) => socket.once("close", r)), stopped]);
        }
      })();
    });
    socket.once("error", reject);
  });
}

test("50 clients pipelining without reading: bounded gateway memory, a good client still answered, the stalled connections closed", {
  timeout: 20_000,
  // Not met yet (see the commit message): the kernel's loopback buffers (several MiB per connection) take the
  // responses long before the gateway's socket backs up, so few connections reach the stall timer in time.
  todo: "bound not met yet: closes only a few of the 50 connections within the scenario; rss still grows by 50-100 MiB",
}, async (t) => {
  // Warm up: the gateway has routes and a pooled connection to the service.
  for (let i = 0; i < 20; i++) assert.equal((await fetch(`http://${host}:${port}/greeter/hello`, { method: "POST", body: '{"name":"w"}', headers: { "content-type": "application/json" } })).status, 200);
  const before = await memory();

  let endFlood!: () => void;
  const stopped = new Promise<void>((r) => (endFlood = r));
  const start = Date.now();
  const flooders = await Promise.all(Array.from({ length: CLIENTS }, () => flooder(stopped)));

  // A well-behaved client calls throughout.
  const good = { ok: 0, failed: 0, slowest: 0, errors: [] as string[] };
  const goodLoop = (async () => {
    while (Date.now() - start < FLOOD_MS) {
      const t0 = Date.now();
      try {
        const res = await fetch(`http://${host}:${port}/greeter/hello`, { method: "POST", body: '{"name":"good"}', headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(3000) });
        const text = await res.text();
        if (res.status === 200 && text === '{"message":"Hello good"}') good.ok++;
        else (good.failed++, good.errors.push(`${res.status} ${text.slice(0, 100)}`));
      } catch (e) {
        good.failed++;
        good.errors.push((e as Error).message);
      }
      good.slowest = Math.max(good.slowest, Date.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  // Memory while every flooder is still connected (the connections still open are the ones the gateway holds).
  await new Promise((r) => setTimeout(r, Math.min(FLOOD_MS, STALL_TIMEOUT) - 200));
  const during = await memory();
  await goodLoop;
  endFlood();
  // The gateway closes each connection that never read once its responses have not moved for STALL_TIMEOUT.
  const deadline = Date.now() + STALL_TIMEOUT + 8000;
  while (Date.now() < deadline && flooders.some((f) => f.closedAt === undefined)) await new Promise((r) => setTimeout(r, 100));
  const closed = flooders.filter((f) => f.closedAt !== undefined).length;
  for (const f of flooders) f.socket.destroy();
  const afterAll = await memory();

  const written = flooders.map((f) => f.written).sort((a, b) => a - b);
  const growth = (during.rss - before.rss) / MiB;
  t.diagnostic(
    `rss before ${(before.rss / MiB).toFixed(1)} MiB, with ${CLIENTS} non-reading clients ${(during.rss / MiB).toFixed(1)} MiB (+${growth.toFixed(1)}), after they closed ${(afterAll.rss / MiB).toFixed(1)} MiB; ` +
      `heap ${(before.heapUsed / MiB).toFixed(1)} → ${(during.heapUsed / MiB).toFixed(1)} MiB; ` +
      `requests taken per connection: median ${(written[CLIENTS >> 1]! / pipelined.length).toFixed(0)} (${(written[CLIENTS >> 1]! / 1024).toFixed(0)} KiB), max ${(written[CLIENTS - 1]! / 1024).toFixed(0)} KiB; ` +
      `rss per connection ${((growth * 1024) / CLIENTS).toFixed(0)} KiB; closed by the gateway: ${closed}/${CLIENTS}; ` +
      `good client: ${good.ok} ok, ${good.failed} failed, slowest ${good.slowest} ms`,
  );
  assert.equal(good.failed, 0, `the well-behaved client failed: ${good.errors.slice(0, 3).join("; ")}`);
  assert.ok(good.ok >= 5, `the well-behaved client got only ${good.ok} answers`);
  assert.ok(growth < 48, `gateway rss grew by ${growth.toFixed(1)} MiB with ${CLIENTS} non-reading clients`);
  assert.equal(closed, CLIENTS, `only ${closed} of ${CLIENTS} non-reading connections were closed by the gateway`);
});
