/**
 * Raw transport benchmark: unary round trips (64-byte echo) at concurrency 1 and 64 over loopback, a
 * 10 000-message server stream, and server streams the client leaves after a few messages (the server
 * would send forever: what a cancel costs). The server runs in a child process. The peer is @grpc/grpc-js
 * with raw-bytes serializers, measured in the same run.
 * Usage: node build/bench/transport.js [seconds per case, default 3]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { tcpTransport } from "../src/runtime/transport/tcp/index.js";
import { measure, type LoadResult } from "./support/load.js";
import { markdownTable, ratio } from "./support/table.js";

const seconds = Number(process.argv[2] ?? 3);
const payload = Buffer.alloc(64, 7);
const serverScript = fileURLToPath(new URL("./transport-server.js", import.meta.url));

async function startServer(kind: string): Promise<{ child: ChildProcess; address: string }> {
  // BENCH_SERVER_NODE_OPTIONS, e.g. "--cpu-prof", profiles the server process.
  const flags = (process.env.BENCH_SERVER_NODE_OPTIONS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...flags, serverScript, kind], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, MICRO_LOG_LEVEL: "warn" } });
  const address = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl).trim());
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, address };
}

type Call = () => Promise<void>;
const STREAM_MESSAGES = 10_000;
/** The early-break case: the server is asked for this many messages, the client reads EARLY_BREAK and leaves. */
const ENDLESS = 1_000_000_000;
const EARLY_BREAK = 5;

/** grpc-js early-break streams that failed before the client cancelled them (reported with the figures). */
let grpcEarlyErrors = 0;

type Caller = { call: Call; stream: () => Promise<number>; earlyBreak: () => Promise<void>; close(): void };

/** Streams per second, one after another, of a server stream left after {@link EARLY_BREAK} messages. */
async function runEarlyBreak(earlyBreak: () => Promise<void>, ms: number): Promise<number> {
  for (let i = 0; i < 20; i++) await earlyBreak();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await earlyBreak();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

/** Messages per second of a 10 000-message server stream (32-byte messages), repeated for `ms` after a warm-up. */
async function runStream(stream: () => Promise<number>, ms: number): Promise<number> {
  for (let i = 0; i < 3; i++) await stream();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) n += await stream();
  return n / ((performance.now() - start) / 1000);
}

async function microCaller(address: string): Promise<Caller> {
  const conn = await tcpTransport().dial(address);
  const header = { service: "bench", endpoint: "Echo.Echo", contentType: "application/octet-stream", metadata: {}, kind: "unary" as const };
  return {
    call: async () => {
      const s = conn.openStream({ ...header, deadline: Date.now() + 10_000 });
      void s.send(payload);
      s.closeSend();
      const it = s[Symbol.asyncIterator]();
      const r = await it.next();
      if (r.done) throw new Error("no response");
      await it.next();
    },
    stream: async () => {
      const s = conn.openStream({ ...header, endpoint: "Echo.Stream", kind: "server_streaming" });
      void s.send(Buffer.from(String(STREAM_MESSAGES)));
      s.closeSend();
      let n = 0;
      for await (const _ of s) n++;
      return n;
    },
    earlyBreak: async () => {
      const s = conn.openStream({ ...header, endpoint: "Echo.Stream", kind: "server_streaming" });
      void s.send(Buffer.from(String(ENDLESS)));
      s.closeSend();
      let n = 0;
      for await (const _ of s) if (++n === EARLY_BREAK) break;
    },
    close: () => conn.close(),
  };
}

async function grpcCaller(address: string): Promise<Caller> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const raw = (b: Buffer) => b;
  return {
    call: () =>
      new Promise<void>((resolve, reject) =>
        client.makeUnaryRequest("/bench.Echo/Echo", raw, raw, payload, { deadline: Date.now() + 10_000 }, (e) => (e ? reject(e) : resolve())),
      ),
    stream: () =>
      new Promise<number>((resolve, reject) => {
        let n = 0;
        const call = client.makeServerStreamRequest("/bench.Echo/Stream", raw, raw, Buffer.from(String(STREAM_MESSAGES)));
        call.on("data", () => n++);
        call.on("end", () => resolve(n));
        call.on("error", reject);
      }),
    earlyBreak: () =>
      new Promise<void>((resolve, reject) => {
        let n = 0;
        let cancelled = false;
        const call = client.makeServerStreamRequest("/bench.Echo/Stream", raw, raw, Buffer.from(String(ENDLESS)));
        call.on("data", () => {
          if (++n === EARLY_BREAK) {
            cancelled = true;
            call.cancel();
          }
        });
        // After the cancel, any end is the cancel's. Before it, grpc-js under this churn sometimes loses the whole
        // session (INTERNAL "Session closed with error code 2"): counted and reported, not fatal to the run.
        call.on("error", (e: grpc.ServiceError) => {
          if (!cancelled && e.code !== grpc.status.CANCELLED) grpcEarlyErrors++;
          resolve();
        });
        call.on("end", () => resolve());
      }),
    close: () => client.close(),
  };
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  const results: Record<string, Record<number, LoadResult>> = {};
  const streams: Record<string, number> = {};
  const early: Record<string, number> = {};
  const kinds = (process.env.BENCH_ONLY ?? "micro,grpc").split(",");
  for (const kind of ["micro", "grpc"] as const) {
    if (!kinds.includes(kind)) continue;
    const { child, address } = await startServer(kind);
    try {
      const caller = kind === "micro" ? await microCaller(address) : await grpcCaller(address);
      results[kind] = {};
      for (const c of [1, 64]) results[kind]![c] = await measure(caller.call, c, { seconds, warmupMs: Math.min(1000, (seconds * 1000) / 3) });
      streams[kind] = await runStream(caller.stream, seconds * 1000);
      early[kind] = await runEarlyBreak(caller.earlyBreak, seconds * 1000);
      caller.close();
    } finally {
      // Let it exit on its own (so a --cpu-prof profile gets written), then make sure.
      child.stdin!.end();
      await new Promise((r) => {
        const t = setTimeout(r, 3000);
        child.once("exit", () => {
          clearTimeout(t);
          r(undefined);
        });
      });
      child.kill();
    }
  }
  for (const c of [1, 64]) {
    const none = { throughput: NaN, p50: NaN, p99: NaN };
    const m = results.micro?.[c] ?? none;
    const g = results.grpc?.[c] ?? none;
    rows.push([String(c), ratio(m.throughput, g.throughput), m.throughput.toFixed(0), g.throughput.toFixed(0), m.p50.toFixed(3), m.p99.toFixed(3), g.p50.toFixed(3), g.p99.toFixed(3)]);
  }
  console.log(`raw transport unary echo, 64-byte payload, loopback, ${seconds}s per case, server in a child process`);
  console.log(markdownTable(["concurrency", "micro/grpc rps", "micro rps", "grpc rps", "micro p50 ms", "micro p99 ms", "grpc p50 ms", "grpc p99 ms"], rows));
  const ms = streams.micro ?? NaN;
  const gs = streams.grpc ?? NaN;
  console.log(`\nserver stream, ${STREAM_MESSAGES} x 32-byte messages per call: micro/grpc ${(ms / gs).toFixed(2)}x, micro ${ms.toFixed(0)} msg/s, grpc ${gs.toFixed(0)} msg/s`);
  const me = early.micro ?? NaN;
  const ge = early.grpc ?? NaN;
  console.log(`server stream left after ${EARLY_BREAK} messages (cancel), one at a time: micro/grpc ${(me / ge).toFixed(2)}x, micro ${me.toFixed(0)} streams/s, grpc ${ge.toFixed(0)} streams/s${grpcEarlyErrors > 0 ? ` (grpc: ${grpcEarlyErrors} streams failed before the cancel: session closed by the peer)` : ""}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
