/**
 * Tunables of the tcp transport and their defaults (docs/protocol.md, "Limits").
 */
import { MAX_WINDOW } from "./frame.js";

/** DATA payloads up to this size are copied into the write slab; larger ones are referenced. */
export const DATA_COPY_LIMIT = 16 * 1024;

/** Options of {@link tcpTransport}; every field has a default. */
export interface TcpTransportOptions {
  /** Largest message accepted, in bytes (default 4 MiB). `ListenOptions`/`DialOptions.maxMessageSize` override it. */
  maxMessageSize?: number;
  /** Largest HEADERS/TRAILER payload accepted, in bytes (default 64 KiB). */
  maxHeaderSize?: number;
  /** Streams a client may have open at once on one server connection (default 1024). */
  maxConcurrentStreams?: number;
  /** Per-stream flow-control window in bytes (default 256 KiB). */
  initialWindow?: number;
  /** Send a PING after this many ms without receiving anything (default 30000). */
  keepaliveInterval?: number;
  /** Close the connection when nothing arrives this many ms after a PING (default 10000). */
  keepaliveTimeout?: number;
  /** Server: close a connection that has not sent its preface and SETTINGS within this many ms (default 5000). */
  handshakeTimeout?: number;
  /**
   * Close a connection whose peer has stopped reading once this many bytes are waiting in the socket
   * (default 64 MiB). Senders wait for 'drain' long before this; it only stops a peer that never reads.
   */
  maxWriteBuffer?: number;
  /** Default drain for `Listener.close()` without an argument, in ms (default 10000). */
  drainTimeout?: number;
}

export interface ResolvedOptions {
  maxMessageSize: number;
  maxHeaderSize: number;
  maxConcurrentStreams: number;
  initialWindow: number;
  keepaliveInterval: number;
  keepaliveTimeout: number;
  handshakeTimeout: number;
  maxWriteBuffer: number;
  drainTimeout: number;
}

/** The longest delay setTimeout honours (2³¹−1 ms); a longer deadline simply never fires a timer. */
export const MAX_TIMER = 0x7fffffff;

/** Above this many bytes waiting for the socket, senders wait for 'drain'. */
export const WRITE_HIGH_WATER = 1024 * 1024;

export function resolveOptions(o: TcpTransportOptions = {}): ResolvedOptions {
  const pos = (v: number | undefined, d: number, name: string, max = 0xffffffff): number => {
    if (v === undefined) return d;
    if (!Number.isFinite(v) || v <= 0 || v > max) throw new RangeError(`tcpTransport: ${name} must be a positive number up to ${max}, got ${v}`);
    return Math.floor(v);
  };
  return {
    maxMessageSize: pos(o.maxMessageSize, 4 * 1024 * 1024, "maxMessageSize"),
    maxHeaderSize: pos(o.maxHeaderSize, 64 * 1024, "maxHeaderSize"),
    maxConcurrentStreams: pos(o.maxConcurrentStreams, 1024, "maxConcurrentStreams"),
    initialWindow: pos(o.initialWindow, 256 * 1024, "initialWindow", MAX_WINDOW),
    keepaliveInterval: pos(o.keepaliveInterval, 30_000, "keepaliveInterval", MAX_TIMER),
    keepaliveTimeout: pos(o.keepaliveTimeout, 10_000, "keepaliveTimeout", MAX_TIMER),
    handshakeTimeout: pos(o.handshakeTimeout, 5_000, "handshakeTimeout", MAX_TIMER),
    maxWriteBuffer: pos(o.maxWriteBuffer, 64 * 1024 * 1024, "maxWriteBuffer"),
    drainTimeout: pos(o.drainTimeout, 10_000, "drainTimeout", MAX_TIMER),
  };
}
