/**
 * Fuzzing the frame decoder: random bytes and mutations of captured valid conversations (bit flips,
 * truncation, huge lengths, duplicated frames, splices), first in-process against the pure decoder,
 * then over real sockets against a server in a child process that must keep serving a well-behaved
 * client throughout. Seeded: set FUZZ_SEED to replay; the seed is printed on failure.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import {
  DEFAULT_SETTINGS,
  FrameDecoder,
  FrameType,
  ProtocolError,
  END_STREAM,
  ACK,
  decodeGoAway,
  decodeHeader,
  decodeSettings,
  decodeTrailer,
  encodeFrame,
  encodeGoAway,
  encodePreface,
  encodeSettings,
  encodeTrailer,
  type Settings,
} from "../../../src/runtime/transport/tcp/frame.js";
import { enc, handshake, header, headersFrame, prng, rawSocket, readAll, spawnServer } from "./helpers.js";

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

/** A captured client conversation: handshake, a unary call, a bidi stream with metadata, control frames. */
function clientCapture(): Buffer[] {
  const data = (id: number, s: string, end = false) => encodeFrame(FrameType.DATA, end ? END_STREAM : 0, id, Buffer.from(s));
  const window = Buffer.alloc(4);
  window.writeUInt32BE(4096);
  return [
    handshake(),
    headersFrame(1, { metadata: { "x-trace": "abc", user: "ünï" }, timeout: 5000 }),
    data(1, "hello", true),
    headersFrame(3, { kind: "bidi_streaming", endpoint: "Echo" }),
    data(3, "one"),
    encodeFrame(FrameType.WINDOW, 0, 3, window),
    data(3, "two"),
    encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8, 1)),
    encodeFrame(FrameType.CANCEL, 0, 3, Buffer.from("bye")),
    headersFrame(5, { kind: "client_streaming" }, true),
  ];
}

/** A captured server conversation. */
function serverCapture(): Buffer[] {
  return [
    encodePreface(),
    encodeFrame(FrameType.SETTINGS, 0, 0, encodeSettings(DEFAULT_SETTINGS)),
    encodeFrame(FrameType.DATA, 0, 1, Buffer.from("hello back")),
    encodeFrame(FrameType.TRAILER, 0, 1, encodeTrailer({ metadata: { a: "b" } })),
    encodeFrame(FrameType.TRAILER, 0, 3, encodeTrailer({ error: new MicroError("x.y", 404, "gone"), metadata: {} })),
    encodeFrame(FrameType.PING, ACK, 0, Buffer.alloc(8, 1)),
    encodeFrame(FrameType.GOAWAY, 0, 0, encodeGoAway(3, 0, "draining")),
  ];
}

/** One mutated byte string built from captured frames. */
function mutate(rand: () => number, frames: Buffer[]): Buffer {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  let parts = frames.slice();
  // Frame-level mutations first: duplicate, drop or reorder frames.
  const frameOps = Math.floor(rand() * 3);
  for (let i = 0; i < frameOps; i++) {
    const op = Math.floor(rand() * 3);
    const at = Math.floor(rand() * parts.length);
    if (op === 0) parts.splice(at, 0, pick(parts));
    else if (op === 1 && parts.length > 1) parts.splice(at, 1);
    else parts.push(pick(parts));
  }
  let b = Buffer.from(Buffer.concat(parts));
  const byteOps = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < byteOps; i++) {
    const op = Math.floor(rand() * 6);
    const at = Math.floor(rand() * b.length);
    switch (op) {
      case 0: // bit flips
        for (let k = 0; k < 1 + Math.floor(rand() * 8); k++) {
          const j = Math.floor(rand() * b.length);
          b[j]! ^= 1 << Math.floor(rand() * 8);
        }
        break;
      case 1: // truncation
        b = b.subarray(0, at);
        break;
      case 2: // a huge or random length at a random offset
        if (b.length >= at + 4) b.writeUInt32BE(pick([0xffffffff, 0x7fffffff, 0x10000000, Math.floor(rand() * 0x100000), 0]), at);
        break;
      case 3: // random bytes spliced in
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 32) }, () => Math.floor(rand() * 256))), b.subarray(at)]);
        break;
      case 4: // a region overwritten with one byte value (varints, counts)
        b.fill(pick([0, 0xff, 0x80, 0x7f]), at, Math.min(b.length, at + 1 + Math.floor(rand() * 8)));
        break;
      default: // a region duplicated
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + Math.floor(rand() * 40)), b.subarray(at)]);
    }
  }
  return b;
}

function randomBytes(rand: () => number): Buffer {
  return Buffer.from(Array.from({ length: Math.floor(rand() * 256) }, () => Math.floor(rand() * 256)));
}

/** Feed `bytes` in random chunks to a decoder that also decodes every payload as the session would. */
function decodeAll(rand: () => number, bytes: Buffer, preface: boolean, limits: Settings): { frames: number; error?: unknown } {
  let frames = 0;
  const d = new FrameDecoder(
    limits,
    (type, _flags, _id, payload) => {
      frames++;
      if (type === FrameType.HEADERS) decodeHeader(payload);
      else if (type === FrameType.TRAILER) decodeTrailer(payload);
      else if (type === FrameType.SETTINGS) decodeSettings(payload);
      else if (type === FrameType.GOAWAY) decodeGoAway(payload);
    },
    preface ? () => {} : undefined,
  );
  try {
    let off = 0;
    while (off < bytes.length) {
      const n = 1 + Math.floor(rand() * 64);
      d.push(bytes.subarray(off, off + n));
      off += n;
    }
    // What is held back never exceeds one frame.
    assert.ok(d.pending <= limits.maxMessageSize + 10, `decoder holds ${d.pending} bytes`);
    return { frames };
  } catch (error) {
    return { frames, error };
  }
}

describe("frame decoder fuzz (in-process)", () => {
  const limits: Settings = { ...DEFAULT_SETTINGS, maxMessageSize: 64 * 1024, maxHeaderSize: 4096 };

  test("valid captures decode completely", () => {
    const rand = prng(1);
    assert.equal(decodeAll(rand, Buffer.concat(clientCapture()), true, limits).error, undefined);
    assert.equal(decodeAll(rand, Buffer.concat(serverCapture()), true, limits).error, undefined);
    assert.equal(decodeAll(rand, Buffer.concat(clientCapture()), true, limits).frames, clientCapture().length - 1 + 1);
  });

  test("random and mutated bytes only ever raise ProtocolError", (t) => {
    t.diagnostic(`FUZZ_SEED=${seed}`);
    const rand = prng(seed);
    const client = clientCapture();
    const server = serverCapture();
    let rejected = 0;
    for (let i = 0; i < 6000; i++) {
      const kind = i % 3;
      const bytes = kind === 0 ? randomBytes(rand) : mutate(rand, kind === 1 ? client : server);
      const { error } = decodeAll(rand, bytes, rand() < 0.8, limits);
      if (error !== undefined) {
        rejected++;
        assert.ok(error instanceof ProtocolError, `case ${i} (FUZZ_SEED=${seed}): ${String((error as Error)?.stack ?? error)}\ninput: ${bytes.toString("hex").slice(0, 400)}`);
        assert.ok((error as ProtocolError).message.length > 0);
      }
    }
    // The mutations must actually exercise the error paths.
    assert.ok(rejected > 1000, `only ${rejected} inputs rejected (FUZZ_SEED=${seed})`);
  });
});

describe("server fuzz over sockets (child process)", () => {
  test("garbage connections are closed while a good client keeps being served", async (t) => {
    t.diagnostic(`FUZZ_SEED=${seed}`);
    // Log level error: a bug (anything but a clean protocol error) shows up as an "internal error" line.
    const { child, address, stderr } = await spawnServer({ handshakeTimeout: 200, maxMessageSize: 64 * 1024, maxHeaderSize: 4096 }, "error");
    children.push(child);
    const conn = await tcpTransport().dial(address);
    let served = 0;
    let goodError: unknown;
    let fuzzing = true;
    const good = (async () => {
      while (fuzzing) {
        const s = conn.openStream(header("Echo", "unary", { deadline: Date.now() + 10_000 }));
        await s.send(enc(`call ${served}`));
        s.closeSend();
        const out = await readAll(s);
        assert.deepEqual(out, [`call ${served}`]);
        served++;
      }
    })().catch((e) => (goodError = e));

    const rand = prng(seed);
    const client = clientCapture();
    const total = 300;
    const parallel = 16;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        // Random bytes; mutated whole conversations; or a clean handshake followed by mutated frames, so
        // that the stream state machine (ids, windows, cancels, half-close) sees the damage too.
        const mode = i % 5;
        const bytes =
          mode === 0 ? randomBytes(rand) : mode < 3 ? mutate(rand, client) : Buffer.concat([client[0]!, mutate(rand, client.slice(1))]);
        const raw = await rawSocket(address);
        raw.socket.write(bytes);
        // Either the server closes it, or we give up and close it ourselves.
        await Promise.race([raw.closed, new Promise((r) => setTimeout(r, 300))]);
        raw.socket.destroy();
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    fuzzing = false;
    await good;
    assert.equal(goodError, undefined, `good client failed (FUZZ_SEED=${seed}): ${String(goodError)}`);
    assert.equal(child.exitCode, null, `server process died (FUZZ_SEED=${seed})`);
    assert.ok(served > 0);
    assert.doesNotMatch(stderr(), /internal error|threw/, `server logged a bug (FUZZ_SEED=${seed})`);
    // Still serving, on the old connection and on a new one.
    const fresh = await tcpTransport().dial(address);
    for (const c of [conn, fresh]) {
      const s = c.openStream(header("Echo"));
      await s.send(enc("after"));
      s.closeSend();
      assert.deepEqual(await readAll(s), ["after"]);
      c.close();
    }
  });
});
