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
  /**
   * The flow-control window a new stream starts with, in bytes, announced in SETTINGS (default 32 KiB, or
   * `maxWindow` when only that is set lower). A stream whose reader keeps up grows its window up to `maxWindow`.
   */
  initialWindow?: number;
  /**
   * The largest per-stream window, in bytes (default 256 KiB; when only `initialWindow` is set, that value:
   * a fixed window, as before auto-tuning). Bytes buffered per stream are bounded by it plus one message.
   */
  maxWindow?: number;
  /** Send a PING after this many ms without receiving anything (default 30000). */
  keepaliveInterval?: number;
  /** Close the connection when nothing arrives this many ms after a PING (default 10000). */
  keepaliveTimeout?: number;
  /** Server: close a connection that has not sent its preface and SETTINGS within this many ms (default 5000). */
  handshakeTimeout?: number;
  /**
   * Close the connection when a frame that has started arriving is not complete this many ms later (default
   * 5000): a peer dribbling a frame cannot hold a connection. Raise it for very large messages on slow links.
   */
  frameTimeout?: number;
  /**
   * Server: close a connection that has had no open stream for this many ms (default 300000, 5 minutes), with a
   * GOAWAY first so a call the client is just starting is still served. Clients keep idle pooled connections.
   */
  idleTimeout?: number;
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
  maxWindow: number;
  keepaliveInterval: number;
  keepaliveTimeout: number;
  handshakeTimeout: number;
  frameTimeout: number;
  idleTimeout: number;
  maxWriteBuffer: number;
  drainTimeout: number;
}

/** The window a new stream starts with by default; it grows with demand up to {@link DEFAULT_MAX_WINDOW}. */
export const DEFAULT_INITIAL_WINDOW = 32 * 1024;
export const DEFAULT_MAX_WINDOW = 256 * 1024;
/**
 * A stream's receive window doubles (up to `maxWindow`) when the sender used all of it and the reader consumed
 * a whole window within this many ms: the window, not the reader, is what limits the stream.
 */
export const WINDOW_GROWTH_MS = 1000;

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
  const maxWindow = pos(o.maxWindow, o.initialWindow === undefined ? DEFAULT_MAX_WINDOW : pos(o.initialWindow, 0, "initialWindow", MAX_WINDOW), "maxWindow", MAX_WINDOW);
  const initialWindow = pos(o.initialWindow, Math.min(DEFAULT_INITIAL_WINDOW, maxWindow), "initialWindow", MAX_WINDOW);
  if (initialWindow > maxWindow) throw new RangeError(`tcpTransport: initialWindow (${initialWindow}) must not exceed maxWindow (${maxWindow})`);
  return {
    maxMessageSize: pos(o.maxMessageSize, 4 * 1024 * 1024, "maxMessageSize"),
    maxHeaderSize: pos(o.maxHeaderSize, 64 * 1024, "maxHeaderSize"),
    maxConcurrentStreams: pos(o.maxConcurrentStreams, 1024, "maxConcurrentStreams"),
    initialWindow,
    maxWindow,
    keepaliveInterval: pos(o.keepaliveInterval, 30_000, "keepaliveInterval", MAX_TIMER),
    keepaliveTimeout: pos(o.keepaliveTimeout, 10_000, "keepaliveTimeout", MAX_TIMER),
    handshakeTimeout: pos(o.handshakeTimeout, 5_000, "handshakeTimeout", MAX_TIMER),
    frameTimeout: pos(o.frameTimeout, 5_000, "frameTimeout", MAX_TIMER),
    idleTimeout: pos(o.idleTimeout, 300_000, "idleTimeout", MAX_TIMER),
    maxWriteBuffer: pos(o.maxWriteBuffer, 64 * 1024 * 1024, "maxWriteBuffer"),
    drainTimeout: pos(o.drainTimeout, 10_000, "drainTimeout", MAX_TIMER),
  };
}
