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
