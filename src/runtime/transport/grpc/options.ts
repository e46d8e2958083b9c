/** Options of the grpc transport and their defaults (docs/grpc.md). */
import { TRANSPORT_ERROR_ID } from "../index.js";
import { positiveNumber } from "../../internal/option-values.js";
import { MicroError } from "../../errors/index.js";
import type { TransportTls } from "../tls.js";

/** The error id of the grpc transport (shared by every transport, see ../index.ts). */
export const ID = TRANSPORT_ERROR_ID;

/** Options of {@link grpcTransport}; every field has a default. */
export interface Options {
  /** Largest message accepted (after decompression), in bytes (default 4 MiB, as gRPC's). `ListenOptions`/`DialOptions.maxMessageSize` override it. */
  maxMessageSize?: number;
  /** Largest header list accepted, in bytes (default 16 KiB), announced as SETTINGS_MAX_HEADER_LIST_SIZE. */
  maxHeaderSize?: number;
  /** Server: streams a client may have open at once on one connection (default 1000); more are refused with RST_STREAM(REFUSED_STREAM). */
  maxConcurrentStreams?: number;
  /** HTTP/2 flow-control window of each stream, in bytes (default 1 MiB); the connection's window is 16× that. */
  initialWindow?: number;
  /** Send an HTTP/2 PING after this many ms (default 30000). */
  keepaliveInterval?: number;
  /** Close the connection when a PING is not answered within this many ms (default 10000). */
  keepaliveTimeout?: number;
  /** Default drain for `Listener.close()` without an argument, in ms (default 10000). */
  drainTimeout?: number;
  /**
   * Client: compress request messages with gzip (`grpc-encoding: gzip`; default `identity`). Servers always
   * accept gzip and answer a gzip request in gzip.
   */
  compression?: "gzip" | "identity";
  /** TLS: a server presents `cert`/`key` (and with `ca` requires client certificates); a client verifies the server with `ca` and presents `cert`/`key`. Absent: cleartext h2c. */
  tls?: TransportTls;
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  maxMessageSize: number;
  maxHeaderSize: number;
  maxConcurrentStreams: number;
  initialWindow: number;
  keepaliveInterval: number;
  keepaliveTimeout: number;
  drainTimeout: number;
  compression: "gzip" | "identity";
  tls: TransportTls | undefined;
}

/** The exported name of {@link Options}. */
export type GrpcTransportOptions = Options;

const MAX_TIMER = 0x7fffffff;
/** HTTP/2's largest window (2³¹−1). */
const MAX_WINDOW = 0x7fffffff;

/** @throws MicroError (400, {@link ID}) naming the first option that is not valid. */
export function resolveOptions(o: Options = {}): ResolvedOptions {
  const pos = (v: number | undefined, d: number, name: string, unit: string, max = 0xffffffff): number =>
    Math.floor(positiveNumber(v, d, ID, "grpc transport", name, { unit, max }));
  if (o.compression !== undefined && o.compression !== "gzip" && o.compression !== "identity") {
    throw MicroError.badRequest(ID, `grpc transport option compression must be "gzip" or "identity", not ${JSON.stringify(o.compression)}`);
  }
  return {
    maxMessageSize: pos(o.maxMessageSize, 4 * 1024 * 1024, "maxMessageSize", "bytes"),
    maxHeaderSize: pos(o.maxHeaderSize, 16 * 1024, "maxHeaderSize", "bytes"),
    maxConcurrentStreams: pos(o.maxConcurrentStreams, 1000, "maxConcurrentStreams", "streams"),
    initialWindow: pos(o.initialWindow, 1024 * 1024, "initialWindow", "bytes", MAX_WINDOW),
    keepaliveInterval: pos(o.keepaliveInterval, 30_000, "keepaliveInterval", "milliseconds", MAX_TIMER),
    keepaliveTimeout: pos(o.keepaliveTimeout, 10_000, "keepaliveTimeout", "milliseconds", MAX_TIMER),
    drainTimeout: pos(o.drainTimeout, 10_000, "drainTimeout", "milliseconds", MAX_TIMER),
    compression: o.compression ?? "identity",
    tls: o.tls,
  };
}
