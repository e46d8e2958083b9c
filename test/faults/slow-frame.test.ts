/**
 * Slow and idle peers against a real server process (issue 11, "Slow and misbehaving peers"):
 * - a client that completes the handshake and then dribbles a frame byte by byte is closed once the frame
 *   has not arrived whole within `frameTimeout`, and 50 of them are all closed while a good client keeps calling;
 * - a connection without streams is closed after `idleTimeout` with a GOAWAY first, and no call made around
 *   that moment is lost.
 * The dribbling clients and the 50-client scenario live in slow-frame-scenario.ts (the fault benchmark runs it too).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { tcpTransport } from "../../src/runtime/transport/tcp/index.js";
import { ConnectionPool } from "../../src/runtime/transport/pool.js";
import { FrameType, GoAwayCode, decodeGoAway, encodeFrame, END_STREAM, ACK } from "../../src/runtime/transport/tcp/frame.js";
import type { Transport } from "../../src/runtime/transport/index.js";
import { dec, handshake, headersFrame, parseFrames, rawSocket, spawnServer, until } from "../runtime/transport/helpers.js";
import { dribbler, echo, runDribblers, within } from "./slow-frame-scenario.js";

const FRAME_TIMEOUT = 300;
const IDLE_TIMEOUT = 300;

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

test("a frame dribbled byte by byte after the handshake: the server closes the connection at frameTimeout", { timeout: 20_000 }, async () => {
  const server = await spawnServer({ frameTimeout: FRAME_TIMEOUT });
  children.push(server.child);
  const d = await dribbler(server.address, 20);
  const closed = await within(d.closedAfter, FRAME_TIMEOUT + 2000);
  d.stop();
  assert.ok(closed, "the server still holds the dribbling connection");
  const ms = await d.closedAfter;
  const goAway = parseFrames(d.raw.received()).find((f) => f.type === FrameType.GOAWAY);
  assert.ok(goAway, "GOAWAY before closing");
  const g = decodeGoAway(goAway.payload);
  assert.equal(g.code, GoAwayCode.PROTOCOL_ERROR);
  assert.match(g.reason, /frame timeout/);
  console.log(`dribbling connection closed after ${ms} ms (frameTimeout ${FRAME_TIMEOUT} ms)`);
});

test("50 dribbling clients are all closed while a good client keeps calling", { timeout: 20_000 }, async () => {
  const f = await runDribblers({ clients: 50, everyMs: 25, frameTimeout: FRAME_TIMEOUT });
  const times = f.allClosed ? f.closedAfter : [];
  console.log(`dribblers closed: ${times.length}/50, slowest after ${Math.max(0, ...times)} ms; good client: ${f.ok} calls ok, ${f.failed} failed`);
  assert.ok(f.allClosed, `not every dribbling connection was closed within ${FRAME_TIMEOUT + 5000} ms`);
  assert.equal(f.failed, 0, "the good client's calls all succeed");
  assert.ok(f.ok > 0, "the good client made calls meanwhile");
});

test("an idle connection is closed after idleTimeout, GOAWAY first; a call that crossed the GOAWAY is served", { timeout: 20_000 }, async () => {
  const server = await spawnServer({ idleTimeout: IDLE_TIMEOUT });
  children.push(server.child);
  const raw = await rawSocket(server.address);
  raw.socket.write(handshake());
  const start = Date.now();
  const sawGoAway = () => parseFrames(raw.received()).some((f) => f.type === FrameType.GOAWAY);
  await until(sawGoAway, IDLE_TIMEOUT + 3000, "the server's idle GOAWAY");
  const idleMs = Date.now() - start;
  const frames = parseFrames(raw.received());
  const g = decodeGoAway(frames.find((f) => f.type === FrameType.GOAWAY)!.payload);
  assert.equal(g.code, GoAwayCode.NO_ERROR);
  // A call the client sent before it read the GOAWAY: HEADERS and DATA, then the answer to the server's PING.
  const ping = frames.find((f) => f.type === FrameType.PING && (f.flags & ACK) === 0);
  assert.ok(ping, "a PING follows the idle GOAWAY");
  raw.socket.write(Buffer.concat([headersFrame(1, { endpoint: "Echo" }), encodeFrame(FrameType.DATA, END_STREAM, 1, Buffer.from("crossed")), encodeFrame(FrameType.PING, ACK, 0, ping.payload)]));
  assert.ok(await within(raw.closed, 5000), "the server closes the connection once the crossed call is done");
  const after = parseFrames(raw.received());
  const data = after.find((f) => f.type === FrameType.DATA && f.id === 1);
  const trailer = after.find((f) => f.type === FrameType.TRAILER && f.id === 1);
  assert.ok(data && trailer, "the crossed call is answered");
  assert.equal(dec(data.payload), "crossed");
  assert.equal(trailer.payload[0]! & 1, 0, "without an error");
  console.log(`idle GOAWAY after ${idleMs} ms (idleTimeout ${IDLE_TIMEOUT} ms); crossed call served`);
});

test("calls through a pool made around the idle close are never lost", { timeout: 20_000 }, async () => {
  const server = await spawnServer({ idleTimeout: IDLE_TIMEOUT });
  children.push(server.child);
  let dials = 0;
  const tcp = tcpTransport();
  const counting: Transport = { name: tcp.name, listen: tcp.listen, dial: (a, o) => (dials++, tcp.dial(a, o)) };
  const pool = new ConnectionPool(counting, { size: 1 });
  const call = async (i: number) => {
    const c = pool.get(server.address);
    return echo(c instanceof Promise ? await c : c, `call ${i}`);
  };
  await call(-1);
  let ok = 0;
  const failures: string[] = [];
  // Sweep the pause between calls across the idle timeout so that calls land just before, at and after it.
  for (let i = 0; i < 24; i++) {
    await new Promise((r) => setTimeout(r, IDLE_TIMEOUT - 30 + i * 3));
    try {
      assert.equal(await call(i), `call ${i}`);
      ok++;
    } catch (e) {
      failures.push(String(e));
    }
  }
  pool.close();
  console.log(`pool calls around the idle close: ${ok} ok, ${failures.length} failed, ${dials} connections dialled`);
  assert.deepEqual(failures, []);
  assert.ok(dials > 1, "the server closed idle connections (the pool had to dial again)");
});
