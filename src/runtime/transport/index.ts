/**
 * The transport moves requests and streams between client and server. The default, `tcp`, is micro's own
 * binary protocol (docs/protocol.md): many calls and streams multiplexed on one connection, with
 * backpressure, cancellation, deadlines, errors, size limits and keepalive.
 *
 * Every call is a stream: a unary call is a stream with one message each way.
 */
import type { Metadata } from "../metadata/index.js";
import type { MethodKind } from "../definition/index.js";
import type { MicroError } from "../errors/index.js";

/** The id of every transport's `MicroError`s (bad options, dial and connection failures, deadlines). */
export const TRANSPORT_ERROR_ID = "micro.transport";

/** What opens a stream. */
export interface RequestHeader {
  readonly service: string;
  readonly endpoint: string;
  /** Content type of every message in both directions. */
  readonly contentType: string;
  readonly metadata: Metadata;
  /** Epoch milliseconds; the server aborts the handler when it passes. */
  readonly deadline?: number;
  readonly kind: MethodKind;
  /**
   * The gRPC method path `/<package>.<Service>/<Method>` (grpc transport). A client sets it when it knows the
   * definition's full name; a grpc server always sets it to the path the request named.
   */
  readonly path?: string;
}

/** How a stream ended, as the client sees it. */
export interface StreamTrailer {
  readonly error?: MicroError;
  readonly metadata: Metadata;
}

/** The client's end of one call. */
export interface ClientStream extends AsyncIterable<Uint8Array> {
  /**
   * Send one message; resolves when the peer can take more (backpressure). Rejects once the stream ended.
   * A message over the server's limit rejects with a 413 and also fails the stream with it (the server sees
   * a cancel, never a request that is not whole), so a reader of the responses gets the same error.
   */
  send(message: Uint8Array): Promise<void>;
  /** No more messages from this side (half-close). */
  closeSend(): void;
  /** Abort the call: the server's handler signal fires. */
  cancel(reason?: string): void;
  /**
   * Response messages. The iterator throws the stream's MicroError if it ended with one (including
   * connection loss, cancel and deadline). Breaking out of the loop cancels the stream.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  /** Resolves when the stream ends, with the server's response metadata (never rejects). */
  readonly trailer: Promise<StreamTrailer>;
}

/** The server's end of one call. */
export interface ServerStream extends AsyncIterable<Uint8Array> {
  readonly header: RequestHeader;
  /** The peer's address. */
  readonly remoteAddress: string;
  /** Fires on client cancel, deadline, connection loss, or server shutdown. */
  readonly signal: AbortSignal;
  /** Request messages until the client half-closes. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  /** Send one response message; resolves when the peer can take more. Over the client's limit it rejects with a 413 (nothing is sent). */
  send(message: Uint8Array): Promise<void>;
  /** End the stream, with an error or with success, and the response metadata. */
  close(error?: MicroError, metadata?: Metadata): void;
}

export interface ListenOptions {
  /** Largest accepted message in bytes (default 4 MiB); larger frames close the connection. */
  maxMessageSize?: number;
}

export interface Listener {
  /** The bound `host:port` (the real port when listening on port 0). */
  readonly address: string;
  /** Stop accepting; wait up to `drainMs` for open streams to end, then close every connection. */
  close(drainMs?: number): Promise<void>;
}

export interface DialOptions {
  /** Milliseconds to wait for the connection (default 5000). */
  timeout?: number;
  signal?: AbortSignal;
  maxMessageSize?: number;
  /**
   * Dial with TLS (`true`), in plaintext (`false`), or as the transport's TLS options say (absent: TLS when the
   * transport has any). Clients pass what the node's registry metadata says (`secure: "true"`, see tls.ts's
   * `secureFromMetadata`). `true` on a transport without TLS options fails with a 503 that says so.
   */
  secure?: boolean;
}

/** One connection to a server; streams are multiplexed over it. */
export interface Connection {
  readonly address: string;
  readonly closed: boolean;
  /** Streams open right now (the pool uses it to spread load). */
  readonly activeStreams: number;
  openStream(header: RequestHeader): ClientStream;
  close(): void;
  /** Called once when the connection closes, for whatever reason. */
  onClose(listener: (error?: Error) => void): void;
}

export type StreamHandler = (stream: ServerStream) => void;

export interface Transport {
  /** The plugin name: `tcp` or `grpc`. */
  readonly name: string;
  /**
   * Listeners serve TLS (a certificate and key were given): servers then record `secure: "true"` in their
   * registry node metadata so that clients dial them with TLS. Absent or false: plaintext.
   */
  readonly secure?: boolean;
  listen(address: string, handler: StreamHandler, options?: ListenOptions): Promise<Listener>;
  dial(address: string, options?: DialOptions): Promise<Connection>;
}
