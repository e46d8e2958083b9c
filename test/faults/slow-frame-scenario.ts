/**
 * The slow-frame scenario, shared by the fault test (test/faults/slow-frame.test.ts) and the fault benchmark
 * (bench/faults.ts): a server process, N clients that complete the handshake and then dribble a HEADERS frame
 * byte by byte (never its last byte), and a good client calling meanwhile. Figures: when each dribbling
 * connection was closed, and the good client's calls.
 */
import type { Connection } from "../../src/runtime/transport/index.js";
import { tcpTransport } from "../../src/runtime/transport/tcp/index.js";
import { enc, handshake, header, headersFrame, rawSocket, readAll, spawnServer } from "../runtime/transport/helpers.js";

/** Resolves true when `p` settles within `ms`, false otherwise. */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
}

/** Connect, send a valid handshake, then the bytes of a HEADERS frame one every `everyMs`, forever. */
export async function dribbler(address: string, everyMs: number) {
  const raw = await rawSocket(address);
  raw.socket.write(handshake());
  const frame = headersFrame(1, { endpoint: "Echo" });
  let i = 0;
  const timer = setInterval(() => {
    if (raw.socket.destroyed || i >= frame.length - 1) return; // never the last byte: the frame never completes
    raw.socket.write(frame.subarray(i, i + 1));
    i++;
  }, everyMs);
  const start = Date.now();
  const closedAfter = raw.closed.then(() => Date.now() - start);
  void raw.closed.then(() => clearInterval(timer));
  return { raw, closedAfter, stop: () => (clearInterval(timer), raw.socket.destroy()) };
}

/** One unary Echo call on `conn`. */
export async function echo(conn: Connection, text: string): Promise<string> {
  const s = conn.openStream(header("Echo", "unary", { deadline: Date.now() + 5000 }));
  void s.send(enc(text));
  s.closeSend();
  const out = await readAll(s);
  return out.join("");
}

export interface DribblersOptions {
  /** Dribbling clients (default 50). */
  clients?: number;
  /** Milliseconds between the bytes each dribbles (default 25). */
  everyMs?: number;
  /** The server's `frameTimeout` (ms). */
  frameTimeout: number;
  /** Milliseconds to wait for every dribbling connection to be closed (default frameTimeout + 5000). */
  waitMs?: number;
}

export interface DribblersFigures {
  clients: number;
  frameTimeout: number;
  waitMs: number;
  /** Whether every dribbling connection was closed within waitMs. */
  allClosed: boolean;
  /** Milliseconds after its connect at which each dribbling connection closed, for those closed within waitMs. */
  closedAfter: number[];
  /** The good client's calls, answered right and otherwise, until all were closed or waitMs passed. */
  ok: number;
  failed: number;
}

/** `clients` dribbling clients against a server with `frameTimeout` while a good client keeps calling. */
export async function runDribblers(options: DribblersOptions): Promise<DribblersFigures> {
  const clients = options.clients ?? 50;
  const waitMs = options.waitMs ?? options.frameTimeout + 5000;
  const server = await spawnServer({ frameTimeout: options.frameTimeout });
  try {
    const conn = await tcpTransport().dial(server.address);
    const dribblers = await Promise.all(Array.from({ length: clients }, () => dribbler(server.address, options.everyMs ?? 25)));
    const closedAfter: number[] = [];
    for (const d of dribblers) void d.closedAfter.then((ms) => closedAfter.push(ms));
    let ok = 0;
    let failed = 0;
    let stop = false;
    const all = Promise.all(dribblers.map((d) => d.closedAfter)).then(() => (stop = true));
    const calls = (async () => {
      let i = 0;
      while (!stop) {
        try {
          if ((await echo(conn, `call ${i}`)) === `call ${i}`) ok++;
          else failed++;
        } catch {
          failed++;
        }
        i++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const allClosed = await within(all, waitMs);
    stop = true;
    await calls;
    const closed = [...closedAfter];
    for (const d of dribblers) d.stop();
    conn.close();
    return { clients, frameTimeout: options.frameTimeout, waitMs, allClosed, closedAfter: closed, ok, failed };
  } finally {
    server.child.kill("SIGKILL");
  }
}
