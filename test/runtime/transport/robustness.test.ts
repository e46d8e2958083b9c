import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { rootLogger, setRootLogger } from "../../../src/runtime/logger/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { FrameType, GoAwayCode, encodeFrame, encodePreface, encodeSettings, DEFAULT_SETTINGS, decodeGoAway } from "../../../src/runtime/transport/tcp/frame.js";
import { WRITE_HIGH_WATER } from "../../../src/runtime/transport/tcp/limits.js";
import type { ServerStream } from "../../../src/runtime/transport/index.js";
import { enc, handshake, header, headersFrame, pair, parseFrames, rawSocket, readAll, router, spawnServer, until } from "./helpers.js";

const children: ChildProcess[] = [];
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const f of cleanups) await f();
});

/** True if `p` is still pending after a few event-loop turns. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return !settled;
}

function goAwayCode(bytes: Buffer): number | undefined {
  const g = parseFrames(bytes).find((f) => f.type === FrameType.GOAWAY);
  return g ? decodeGoAway(g.payload).code : undefined;
}

describe("backpressure", () => {
  test("a client that does not read stops the server's sends at the window", async () => {
    const chunk = new Uint8Array(8 * 1024);
    let sent = 0;
    let stream: ServerStream | undefined;
    let lastSend: Promise<void> | undefined;
    const initialWindow = 64 * 1024;
    const p = await pair(
      router({
        async Flood(s) {
          stream = s;
          try {
            for (;;) {
              lastSend = s.send(chunk);
              await lastSend;
              sent++;
            }
          } catch {
            // cancelled
          }
        },
      }),
      { initialWindow },
    );
    cleanups.push(() => p.close());
    const s = p.conn.openStream(header("Flood", "server_streaming"));
    s.closeSend();
    await until(() => stream !== undefined && (stream as unknown as { sendWindow: number }).sendWindow <= 0, 5000, "server window exhausted");
    assert.ok(await pending(lastSend!), "the server's send waits for window");
    // Everything sent fits the window plus at most one message (plus frame headers).
    assert.ok((sent + 1) * (chunk.length + 10) <= initialWindow + chunk.length + 10, `sent ${sent} messages`);
    // Reading lets the sender continue.
    const it = s[Symbol.asyncIterator]();
    const before = sent;
    for (let i = 0; i < 20; i++) await it.next();
    await until(() => sent > before, 5000, "server resumes");
    s.cancel();
  });

  test("a server that does not read stops the client's sends at the window", async () => {
    const initialWindow = 32 * 1024;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = await pair(
      router({
        async Sink(s) {
          await gate;
          let n = 0;
          for await (const _ of s) n++;
          await s.send(enc(String(n)));
          s.close();
        },
      }),
      { initialWindow },
    );
    cleanups.push(() => p.close());
    const s = p.conn.openStream(header("Sink", "client_streaming"));
    const chunk = new Uint8Array(4096);
    let sent = 0;
    let last: Promise<void> = Promise.resolve();
    while (!(await pending(last))) {
      last = s.send(chunk);
      sent++;
      assert.ok(sent * (chunk.length + 10) <= initialWindow + chunk.length + 10, "client stays within the window");
    }
    release();
    await last;
    for (let i = 0; i < 10; i++) await s.send(chunk);
    s.closeSend();
    assert.deepEqual(await readAll(s), [String(sent + 10)]);
  });

  test("a peer that stops reading the socket does not make the server buffer without bound", async () => {
    const chunk = new Uint8Array(64 * 1024);
    let waiting = false;
    const transport = tcpTransport();
    const listener = await transport.listen("127.0.0.1:0", (s) => {
      void (async () => {
        try {
          for (;;) {
            waiting = true;
            await s.send(chunk);
            waiting = false;
          }
        } catch {
          // connection closed
        }
      })();
    });
    cleanups.push(() => listener.close(0));
    const raw = await rawSocket(listener.address);
    // A huge window: only socket backpressure can stop the server.
    raw.socket.write(Buffer.concat([handshake({ initialWindow: 0x7fffffff }), headersFrame(1, { endpoint: "Flood", kind: "server_streaming" }, true)]));
    raw.socket.pause();
    const sessions = (listener as unknown as { sessions: Set<{ socket: Socket; blocked: boolean }> }).sessions;
    await until(() => waiting && [...sessions].some((x) => x.blocked), 10_000, "server blocked on drain");
    const session = [...sessions][0]!;
    assert.ok(await pending(new Promise((r) => session.socket.once("drain", r))), "no drain while the peer is not reading");
    assert.ok(session.socket.writableLength <= WRITE_HIGH_WATER + 2 * (chunk.length + 10), `buffered ${session.socket.writableLength} bytes`);
    raw.socket.destroy();
  });

  test("a message larger than the server's limit is refused by send() with 413 and cancels the stream: the server never sees a request that is not whole", async () => {
    const transport = tcpTransport();
    const seen: Array<{ messages: number; error?: number }> = [];
    const listener = await transport.listen(
      "127.0.0.1:0",
      (s) =>
        void (async () => {
          let messages = 0;
          try {
            for await (const _ of s) messages += 1;
            seen.push({ messages });
          } catch (e) {
            seen.push({ messages, error: (e as MicroError).code });
          }
          s.close();
        })(),
      { maxMessageSize: 1024 },
    );
    cleanups.push(() => listener.close(0));
    const conn = await transport.dial(listener.address);
    cleanups.push(() => conn.close());
    const tooLarge = (e: unknown) => e instanceof MicroError && e.code === 413 && /request message of 2048 bytes exceeds the server's limit of 1024 bytes; .*maxMessageSize/.test(e.detail);
    const s = conn.openStream(header("X"));
    await s.send(new Uint8Array(1000));
    await assert.rejects(s.send(new Uint8Array(2048)), tooLarge);
    s.closeSend();
    await assert.rejects(readAll(s), tooLarge, "the response side ends with the same error");
    assert.equal((await s.trailer).error?.code, 413);
    await until(() => seen.length === 1);
    assert.deepEqual(seen, [{ messages: 1, error: 499 }], "the server saw the first message, then a cancel — no half-close");
    // The connection is fine for the next call.
    const ok = conn.openStream(header("X"));
    await ok.send(new Uint8Array(1000));
    ok.closeSend();
    assert.deepEqual(await readAll(ok), []);
  });

  test("a response larger than the client's limit is refused by the server's send() with 413 naming both sizes; nothing is sent", async () => {
    const transport = tcpTransport();
    const outcome: unknown[] = [];
    const listener = await transport.listen("127.0.0.1:0", (s) => {
      s.send(new Uint8Array(4096)).then(
        () => outcome.push("sent"),
        (e: unknown) => outcome.push(e),
      );
      s.close();
    });
    cleanups.push(() => listener.close(0));
    const conn = await tcpTransport({ maxMessageSize: 2048 }).dial(listener.address);
    cleanups.push(() => conn.close());
    const s = conn.openStream(header("X"));
    s.closeSend();
    assert.deepEqual(await readAll(s), []);
    await until(() => outcome.length === 1);
    const e = outcome[0];
    assert.ok(e instanceof MicroError && e.code === 413 && /response message of 4096 bytes exceeds the client's limit of 2048 bytes; .*maxMessageSize/.test(e.detail), String(e));
  });
});

describe("connection loss, drain, keepalive", () => {
  test("losing the connection fails open streams with a retryable 503 naming the address", async () => {
    const { child, address } = await spawnServer();
    children.push(child);
    const conn = await tcpTransport().dial(address);
    // The connection works.
    const ok = conn.openStream(header("Echo"));
    await ok.send(enc("hi"));
    ok.closeSend();
    assert.deepEqual(await readAll(ok), ["hi"]);
    const closedWith = new Promise<Error | undefined>((r) => conn.onClose(r));
    const s = conn.openStream(header("Hang", "bidi_streaming"));
    await s.send(enc("x"));
    await until(() => conn.activeStreams === 1);
    child.kill("SIGKILL");
    await assert.rejects(readAll(s), (e: unknown) => e instanceof MicroError && e.code === 503 && e.id === "micro.transport" && e.detail.includes(address));
    assert.equal((await s.trailer).error?.code, 503);
    assert.equal(((await closedWith) as MicroError).code, 503);
    assert.equal(conn.closed, true);
    const late = conn.openStream(header("Echo"));
    assert.equal((await late.trailer).error?.code, 503);
  });

  test("closing the client connection fails its streams with 503 and fires the server signal", async () => {
    let signal: AbortSignal | undefined;
    const p = await pair(
      router({
        async Hang(s) {
          signal = s.signal;
          await new Promise((r) => s.signal.addEventListener("abort", r));
        },
      }),
    );
    cleanups.push(() => p.close());
    const s = p.conn.openStream(header("Hang"));
    s.closeSend();
    await until(() => signal !== undefined);
    const closed = new Promise<Error | undefined>((r) => p.conn.onClose(r));
    p.conn.close();
    await assert.rejects(readAll(s), (e: unknown) => e instanceof MicroError && e.code === 503);
    await closed;
    await until(() => signal!.aborted, 5000, "server signal");
    assert.equal((signal!.reason as MicroError).code, 503);
    // onClose registered after the fact still fires once.
    const late = await new Promise<Error | undefined>((r) => p.conn.onClose(r));
    assert.equal((late as MicroError).code, 503);
  });

  test("an idle client connection does not keep its process alive", async () => {
    const p = await pair(router({ async Echo(s) { for await (const m of s) await s.send(m); s.close(); } }));
    cleanups.push(() => p.close());
    const script = fileURLToPath(new URL("./idle-client.js", import.meta.url));
    const child = spawn(process.execPath, [script, p.listener.address], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, MICRO_LOG_LEVEL: "silent" } });
    children.push(child);
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.once("exit", (c, s) => r([c, s])));
    clearTimeout(timer);
    assert.equal(out, "hi\n");
    assert.equal(signal, null, "the client process had to be killed: the idle connection kept it alive");
    assert.equal(code, 0);
  });

  test("dialing a closed port fails with a retryable 503", async () => {
    const t = tcpTransport();
    const l = await t.listen("127.0.0.1:0", (s) => s.close());
    const address = l.address;
    await l.close(0);
    await assert.rejects(t.dial(address, { timeout: 2000 }), (e: unknown) => e instanceof MicroError && e.code === 503 && e.detail.includes(address));
  });

  test("listener.close(drainMs) sends GOAWAY and lets open streams finish", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const p = await pair(
      router({
        async Slow(s) {
          started = true;
          await gate;
          await s.send(enc("done"));
          s.close();
        },
      }),
    );
    const s = p.conn.openStream(header("Slow"));
    s.closeSend();
    await until(() => started);
    const closing = p.listener.close(10_000);
    await until(() => p.conn.closed, 5000, "GOAWAY reaches the client");
    const refused = p.conn.openStream(header("Slow"));
    const refusedTrailer = await refused.trailer;
    assert.equal(refusedTrailer.error?.code, 503);
    release();
    assert.deepEqual(await readAll(s), ["done"]);
    await closing;
  });

  test("drain time over: remaining streams fail with 503 and their signal fires", async () => {
    let signal: AbortSignal | undefined;
    const p = await pair(
      router({
        async Hang(s) {
          signal = s.signal;
          await new Promise((r) => s.signal.addEventListener("abort", r));
        },
      }),
    );
    const s = p.conn.openStream(header("Hang"));
    s.closeSend();
    await until(() => signal !== undefined);
    await p.listener.close(20);
    await assert.rejects(readAll(s), (e: unknown) => e instanceof MicroError && e.code === 503);
    assert.equal(signal!.aborted, true);
    assert.equal((signal!.reason as MicroError).code, 503);
  });

  test("the server closes a connection whose peer stops answering keepalive", async () => {
    const transport = tcpTransport({ keepaliveInterval: 40, keepaliveTimeout: 40 });
    const listener = await transport.listen("127.0.0.1:0", (s) => s.close());
    cleanups.push(() => listener.close(0));
    const raw = await rawSocket(listener.address);
    raw.socket.write(handshake());
    await raw.closed;
    const frames = parseFrames(raw.received());
    assert.ok(frames.some((f) => f.type === FrameType.PING && f.flags === 0), "the server pinged");
    assert.equal(goAwayCode(raw.received()), GoAwayCode.KEEPALIVE_TIMEOUT);
  });

  test("the client detects a silent server and fails open streams with 503", async () => {
    // A fake server: answers the handshake, then never says anything again.
    const sockets: Socket[] = [];
    const server: Server = createServer((sock) => {
      sockets.push(sock);
      sock.on("error", () => {});
      sock.write(Buffer.concat([encodePreface(), encodeFrame(FrameType.SETTINGS, 0, 0, encodeSettings(DEFAULT_SETTINGS))]));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    });
    const port = (server.address() as { port: number }).port;
    const conn = await tcpTransport({ keepaliveInterval: 40, keepaliveTimeout: 40 }).dial(`127.0.0.1:${port}`);
    const closed = new Promise<Error | undefined>((r) => conn.onClose(r));
    const s = conn.openStream(header("Echo"));
    s.closeSend();
    await assert.rejects(readAll(s), (e: unknown) => e instanceof MicroError && e.code === 503 && /keepalive/.test(e.detail));
    assert.equal(((await closed) as MicroError).code, 503);
  });

  test("an idle connection with a live peer stays open across keepalive rounds", async () => {
    const transport = tcpTransport({ keepaliveInterval: 20, keepaliveTimeout: 20 });
    const listener = await transport.listen("127.0.0.1:0", router({ async Echo(s) { for await (const m of s) await s.send(m); s.close(); } }));
    cleanups.push(() => listener.close(0));
    // A raw peer that answers every PING, and otherwise says nothing.
    const raw = await rawSocket(listener.address);
    let pings = 0;
    let seen = 0;
    const gotFivePings = new Promise<void>((resolve) => {
      raw.socket.on("data", () => {
        const frames = parseFrames(raw.received());
        for (const f of frames.slice(seen)) {
          if (f.type === FrameType.PING && f.flags === 0) {
            pings++;
            raw.socket.write(encodeFrame(FrameType.PING, 1, 0, f.payload));
          }
        }
        seen = frames.length;
        if (pings >= 5) resolve();
      });
    });
    raw.socket.write(handshake());
    await gotFivePings;
    assert.equal(goAwayCode(raw.received()), undefined, "no GOAWAY for a live peer");
    // Still usable: a call on the same raw connection is answered.
    raw.socket.write(Buffer.concat([headersFrame(1), encodeFrame(FrameType.DATA, 1, 1, Buffer.from("alive"))]));
    await until(() => parseFrames(raw.received()).some((f) => f.type === FrameType.TRAILER && f.id === 1), 5000, "the call's trailer");
    const data = parseFrames(raw.received()).find((f) => f.type === FrameType.DATA && f.id === 1);
    assert.equal(data?.payload.toString(), "alive");
    raw.socket.destroy();
  });
});

describe("bad input closes only that connection", () => {
  const cases: Array<{ name: string; bytes: () => Buffer; code: number | undefined; options?: object }> = [
    // Answered with our preface and a GOAWAY saying why (a TLS client then fails at once on bytes that are not TLS).
    { name: "garbage instead of a preface", bytes: () => Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), code: GoAwayCode.PROTOCOL_ERROR },
    { name: "an unknown frame type", bytes: () => Buffer.concat([handshake(), encodeFrame(42, 0, 1, Buffer.alloc(3))]), code: GoAwayCode.PROTOCOL_ERROR },
    { name: "an oversized frame length", bytes: () => Buffer.concat([handshake(), Buffer.from([0xff, 0xff, 0xff, 0xff, FrameType.DATA, 0, 0, 0, 0, 1])]), code: GoAwayCode.FRAME_TOO_LARGE },
    { name: "a header that does not parse", bytes: () => Buffer.concat([handshake(), encodeFrame(FrameType.HEADERS, 0, 1, Buffer.from([0, 0, 200, 1, 2]))]), code: GoAwayCode.PROTOCOL_ERROR },
    { name: "a reused stream id", bytes: () => Buffer.concat([handshake(), headersFrame(1, { endpoint: "Hang" }), headersFrame(1, { endpoint: "Hang" })]), code: GoAwayCode.PROTOCOL_ERROR },
    { name: "a frame before SETTINGS", bytes: () => Buffer.concat([encodePreface(), headersFrame(1)]), code: GoAwayCode.PROTOCOL_ERROR },
    { name: "DATA beyond the window", bytes: () => Buffer.concat([handshake(), headersFrame(1, { endpoint: "Hang" }), encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(40_000)), encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(10))]), code: GoAwayCode.FLOW_CONTROL_ERROR, options: { initialWindow: 32 * 1024 } },
    {
      name: "too many concurrent streams",
      bytes: () => Buffer.concat([handshake(), headersFrame(1, { endpoint: "Hang" }), headersFrame(3, { endpoint: "Hang" }), headersFrame(5, { endpoint: "Hang" })]),
      code: GoAwayCode.TOO_MANY_STREAMS,
      options: { maxConcurrentStreams: 2 },
    },
    { name: "a truncated frame, then silence until the handshake timer", bytes: () => encodePreface().subarray(0, 5), code: undefined, options: { handshakeTimeout: 50 } },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const transport = tcpTransport(c.options ?? {});
      const listener = await transport.listen("127.0.0.1:0", router({ async Hang(s) { await new Promise((r) => s.signal.addEventListener("abort", r)); }, async Echo(s) { for await (const m of s) await s.send(m); s.close(); } }));
      cleanups.push(() => listener.close(0));
      const good = await transport.dial(listener.address);
      cleanups.push(() => good.close());
      const raw = await rawSocket(listener.address);
      raw.socket.write(c.bytes());
      await raw.closed;
      assert.equal(goAwayCode(raw.received()), c.code);
      // The other connection is unaffected.
      const s = good.openStream(header("Echo"));
      await s.send(enc("fine"));
      s.closeSend();
      assert.deepEqual(await readAll(s), ["fine"]);
      assert.equal(good.closed, false);
    });
  }
});

describe("handshake and limits", () => {
  async function fakeServer(onConnection: (s: Socket) => void): Promise<string> {
    const sockets: Socket[] = [];
    const server: Server = createServer((sock) => {
      sockets.push(sock);
      sock.on("error", () => {});
      onConnection(sock);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    });
    return `127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  test("dialing something that accepts but never answers fails with 503 at the dial timeout", async () => {
    const address = await fakeServer(() => {});
    await assert.rejects(tcpTransport().dial(address, { timeout: 100 }), (e: unknown) => e instanceof MicroError && e.code === 503 && /no answer within 100ms/.test(e.detail));
  });

  test("dialing something that is not a micro server fails the handshake with 503", async () => {
    const address = await fakeServer((s) => s.write("SSH-2.0-OpenSSH_9.6\r\n"));
    await assert.rejects(tcpTransport().dial(address, { timeout: 2000 }), (e: unknown) => e instanceof MicroError && e.code === 503 && /handshake failed.*preface/.test(e.detail));
  });

  test("dial honours an abort signal", async () => {
    const address = await fakeServer(() => {});
    const ac = new AbortController();
    const dialing = tcpTransport().dial(address, { timeout: 5000, signal: ac.signal });
    ac.abort();
    await assert.rejects(dialing, (e: unknown) => e instanceof MicroError && e.code === 503 && /aborted/.test(e.detail));
  });

  test("version negotiation: a newer client gets the server's version, version 0 is refused", async () => {
    const transport = tcpTransport();
    const listener = await transport.listen("127.0.0.1:0", (s) => s.close());
    cleanups.push(() => listener.close(0));
    const newer = await rawSocket(listener.address);
    newer.socket.write(Buffer.concat([encodePreface(9), handshake().subarray(8)]));
    await until(() => parseFrames(newer.received()).some((f) => f.type === FrameType.SETTINGS), 5000, "server SETTINGS");
    assert.equal(newer.received()[6], 1);
    newer.socket.destroy();
    const old = await rawSocket(listener.address);
    old.socket.write(encodePreface(0));
    await old.closed;
    assert.equal(goAwayCode(old.received()), GoAwayCode.UNSUPPORTED_VERSION);
  });

  test("request metadata over the server's header limit fails the stream with 400, the connection stays", async () => {
    const p = await pair(router({ async Echo(s) { for await (const m of s) await s.send(m); s.close(); } }), { maxHeaderSize: 1024 });
    cleanups.push(() => p.close());
    const s = p.conn.openStream(header("Echo", "unary", { metadata: { big: "x".repeat(2000) } }));
    const t = await s.trailer;
    assert.equal(t.error?.code, 400);
    assert.match(t.error!.detail, /exceeds the server's limit/);
    const ok = p.conn.openStream(header("Echo"));
    await ok.send(enc("still"));
    ok.closeSend();
    assert.deepEqual(await readAll(ok), ["still"]);
  });

  test("a response trailer over the client's limit becomes a short error instead of breaking the connection", async () => {
    const transport = tcpTransport();
    const listener = await transport.listen("127.0.0.1:0", (s) => s.close(undefined, { big: "y".repeat(4000) }));
    cleanups.push(() => listener.close(0));
    const conn = await tcpTransport({ maxHeaderSize: 1024 }).dial(listener.address);
    cleanups.push(() => conn.close());
    const s = conn.openStream(header("X"));
    s.closeSend();
    const t = await s.trailer;
    assert.equal(t.error?.code, 500);
    assert.match(t.error!.detail, /trailer of \d+ bytes exceeds the client's limit/);
    assert.equal(conn.closed, false);
  });
});

describe("logging", () => {
  test("a closed connection's reason is logged by the transport logger", async () => {
    const lines: string[] = [];
    const previous = rootLogger();
    setRootLogger(pino({ level: "warn" }, { write: (l: string) => void lines.push(l) }));
    try {
      const transport = tcpTransport();
      const listener = await transport.listen("127.0.0.1:0", (s) => s.close());
      cleanups.push(() => listener.close(0));
      const raw = await rawSocket(listener.address);
      raw.socket.write(Buffer.concat([handshake(), encodeFrame(42, 0, 1)]));
      await raw.closed;
      const entry = lines.map((l) => JSON.parse(l)).find((e) => /closing connection/.test(e.msg));
      assert.ok(entry, `no log line in ${lines.join("")}`);
      assert.equal(entry.component, "transport");
      assert.match(entry.msg, /unknown frame type 42/);
      assert.match(entry.peer, /^127\.0\.0\.1:\d+$/);
    } finally {
      setRootLogger(previous);
    }
  });
});

describe("addresses", () => {
  test("':0' listens on every interface and reports a dialable 127.0.0.1 address", async () => {
    const t = tcpTransport();
    const l = await t.listen(":0", (s) => s.close());
    cleanups.push(() => l.close(0));
    assert.match(l.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(l.address, "127.0.0.1:0");
    const c = await t.dial(l.address);
    c.close();
  });

  test("'[::1]:0' works over IPv6 loopback", async (t) => {
    const tr = tcpTransport();
    let l;
    try {
      l = await tr.listen("[::1]:0", router({ async Echo(s) { for await (const m of s) await s.send(m); s.close(); } }));
    } catch (e) {
      // Hosts without IPv6 loopback cannot run this case; say so rather than pass silently.
      assert.match((e as MicroError).detail, /EADDRNOTAVAIL|EAFNOSUPPORT/);
      t.diagnostic("no IPv6 loopback on this host");
      return;
    }
    cleanups.push(() => l.close(0));
    assert.match(l.address, /^\[::1\]:\d+$/);
    const c = await tr.dial(l.address);
    cleanups.push(() => c.close());
    const s = c.openStream(header("Echo"));
    await s.send(enc("v6"));
    s.closeSend();
    assert.deepEqual(await readAll(s), ["v6"]);
  });

  test("bad addresses are clear 400 errors", async () => {
    const t = tcpTransport();
    for (const a of ["", "nohost", "1.2.3.4:99999", "::1:80", "[::1]80", "host:port"]) {
      await assert.rejects(t.listen(a, () => {}), (e: unknown) => e instanceof MicroError && e.code === 400 && e.detail.includes("expected host:port"), a);
    }
  });
});
