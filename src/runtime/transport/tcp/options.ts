/** Options of the tcp transport and their defaults (docs/protocol.md, "Limits"). */
import { TRANSPORT_ERROR_ID } from "../index.js";
import { positiveNumber } from "../../internal/option-values.js";
import { MicroError } from "../../errors/index.js";
import { MAX_WINDOW } from "./frame.js";
import { MAX_TIMER } from "./limits.js";
import { checkTls, type TransportTls } from "../tls.js";

/** The error id of the tcp transport (shared by every transport, see ../index.ts). */
export const ID = TRANSPORT_ERROR_ID;

/** Options of {@link tcpTransport}; every field has a default. */
export interface Options {
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
  /**
   * TLS (default: none, plaintext). With `cert` + `key`, listeners serve TLS only (a plaintext client is
   * answered with an error that says so) and with `ca` as well they require client certificates signed by it
   * (mTLS). Dials use TLS when the node is secure (`DialOptions.secure`), verifying the server against `ca`
   * (else the system's roots) and presenting `cert` + `key` when given.
   */
  tls?: TransportTls;
}

/** Options with defaults applied. */
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
  tls: TransportTls | undefined;
}

/** The name {@link tcpTransport} has always exported for {@link Options}. */
export type TcpTransportOptions = Options;

/** The window a new stream starts with by default; it grows with demand up to {@link DEFAULT_MAX_WINDOW}. */
export const DEFAULT_INITIAL_WINDOW = 32 * 1024;
export const DEFAULT_MAX_WINDOW = 256 * 1024;
const U32 = 0xffffffff;

/** @throws MicroError (400, {@link ID}) naming the first option that is not a positive number in range, or unusable TLS material. */
export function resolveOptions(o: Options = {}): ResolvedOptions {
  const pos = (v: number | undefined, d: number, name: string, unit: string, max = U32): number =>
    Math.floor(positiveNumber(v, d, ID, "tcp transport", name, { unit, max }));
  const maxWindow = pos(o.maxWindow, o.initialWindow === undefined ? DEFAULT_MAX_WINDOW : pos(o.initialWindow, 0, "initialWindow", "bytes", MAX_WINDOW), "maxWindow", "bytes", MAX_WINDOW);
  const initialWindow = pos(o.initialWindow, Math.min(DEFAULT_INITIAL_WINDOW, maxWindow), "initialWindow", "bytes", MAX_WINDOW);
  if (initialWindow > maxWindow) throw MicroError.badRequest(ID, `tcp transport option initialWindow (${initialWindow}) must not exceed maxWindow (${maxWindow})`);
  return {
    maxMessageSize: pos(o.maxMessageSize, 4 * 1024 * 1024, "maxMessageSize", "bytes"),
    maxHeaderSize: pos(o.maxHeaderSize, 64 * 1024, "maxHeaderSize", "bytes"),
    maxConcurrentStreams: pos(o.maxConcurrentStreams, 1024, "maxConcurrentStreams", "streams"),
    initialWindow,
    maxWindow,
    keepaliveInterval: pos(o.keepaliveInterval, 30_000, "keepaliveInterval", "milliseconds", MAX_TIMER),
    keepaliveTimeout: pos(o.keepaliveTimeout, 10_000, "keepaliveTimeout", "milliseconds", MAX_TIMER),
    handshakeTimeout: pos(o.handshakeTimeout, 5_000, "handshakeTimeout", "milliseconds", MAX_TIMER),
    frameTimeout: pos(o.frameTimeout, 5_000, "frameTimeout", "milliseconds", MAX_TIMER),
    idleTimeout: pos(o.idleTimeout, 300_000, "idleTimeout", "milliseconds", MAX_TIMER),
    maxWriteBuffer: pos(o.maxWriteBuffer, 64 * 1024 * 1024, "maxWriteBuffer", "bytes"),
    drainTimeout: pos(o.drainTimeout, 10_000, "drainTimeout", "milliseconds", MAX_TIMER),
    tls: resolveTls(o.tls),
  };
}

function resolveTls(tls: TransportTls | undefined): TransportTls | undefined {
  if (tls === undefined || (tls.cert === undefined && tls.key === undefined && tls.ca === undefined)) return undefined;
  checkTls(tls);
  return tls;
}
