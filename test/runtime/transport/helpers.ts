/** Shared helpers for the tcp transport tests (not a test file). */
import { tcpTransport, type TcpTransportOptions } from "../../../src/runtime/transport/tcp/index.js";
import type { Connection, Listener, RequestHeader, ServerStream, StreamHandler, Transport } from "../../../src/runtime/transport/index.js";
import type { MethodKind } from "../../../src/runtime/definition/index.js";

process.env.MICRO_LOG_LEVEL ??= "silent";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function header(endpoint: string, kind: MethodKind = "unary", extra: Partial<RequestHeader> = {}): RequestHeader {
  return { service: "test", endpoint, contentType: "application/octet-stream", metadata: {}, kind, ...extra };
}

export interface Pair {
  transport: Transport;
  listener: Listener;
  conn: Connection;
  close(): Promise<void>;
}

/** A listener on 127.0.0.1:0 with `handler`, and one dialed connection. */
export async function pair(handler: StreamHandler, options: TcpTransportOptions = {}): Promise<Pair> {
  const transport = tcpTransport(options);
  const listener = await transport.listen("127.0.0.1:0", handler);
  const conn = await transport.dial(listener.address);
  return {
    transport,
    listener,
    conn,
    async close() {
      conn.close();
      await listener.close(0);
    },
  };
}

/** Read every message of a server stream. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const m of stream) out.push(dec(m));
  return out;
}

/** A handler routing on the endpoint name. */
export function router(routes: Record<string, (s: ServerStream) => void | Promise<void>>): StreamHandler {
  return (s) => {
    const r = routes[s.header.endpoint];
    if (!r) return s.close(undefined);
    Promise.resolve(r(s)).catch((e) => s.close(e));
  };
}

/** Resolve when `predicate` holds, checking on every macrotask turn; bounded by `ms`. */
export async function until(predicate: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect, type Socket } from "node:net";
import { encodeFrame, encodePreface, encodeSettings, encodeHeader, DEFAULT_SETTINGS, FrameType, END_STREAM, type Settings, type WireHeader } from "../../../src/runtime/transport/tcp/frame.js";

/** Start server-process.js; resolves with its address once it listens. */
export async function spawnServer(options: TcpTransportOptions = {}, logLevel = "silent"): Promise<{ child: ChildProcess; address: string; stderr: () => string }> {
  const script = fileURLToPath(new URL("./server-process.js", import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, MICRO_LOG_LEVEL: logLevel } });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl).trim());
    });
    child.once("exit", (code) => reject(new Error(`server process exited early with ${code}: ${err}`)));
  });
  return { child, address, stderr: () => err };
}

/** The bytes a well-behaved client starts with: preface and SETTINGS. */
export function handshake(settings: Partial<Settings> = {}): Buffer {
  return Buffer.concat([encodePreface(), encodeFrame(FrameType.SETTINGS, 0, 0, encodeSettings({ ...DEFAULT_SETTINGS, ...settings }))]);
}

/** HEADERS for a stream. */
export function headersFrame(id: number, h: Partial<WireHeader> = {}, end = false): Buffer {
  const wire: WireHeader = { service: "test", endpoint: "Echo", contentType: "application/octet-stream", kind: "unary", metadata: {}, ...h };
  return encodeFrame(FrameType.HEADERS, end ? END_STREAM : 0, id, encodeHeader(wire));
}

/** A raw socket to `address` that records everything it receives. */
export async function rawSocket(address: string): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const i = address.lastIndexOf(":");
  const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** Frames in `bytes` after the 8-byte preface, as [type, flags, stream id, payload]. */
export function parseFrames(bytes: Buffer): Array<{ type: number; flags: number; id: number; payload: Buffer }> {
  const out = [];
  let off = 8;
  while (bytes.length - off >= 10) {
    const len = bytes.readUInt32BE(off);
    if (bytes.length - off - 10 < len) break;
    out.push({ type: bytes[off + 4]!, flags: bytes[off + 5]!, id: bytes.readUInt32BE(off + 6), payload: bytes.subarray(off + 10, off + 10 + len) });
    off += 10 + len;
  }
  return out;
}

/** A deterministic PRNG (mulberry32) so fuzz failures reproduce from the printed seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
