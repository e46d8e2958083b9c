/**
 * The client: calls services by name (registry lookup → selector → pooled transport connection), with
 * retries, backoff, timeouts, cancellation and wrappers. Generated clients (`newGreeterClient`) are thin
 * typed layers over this interface.
 */
import type { MethodDefinition } from "../definition/index.js";
import type { MessageCodec } from "../codec/index.js";
import type { Metadata } from "../metadata/index.js";
import type { NodeRecord } from "../registry/index.js";

export type { Metadata } from "../metadata/index.js";

/** Per-call options. */
export interface CallOptions {
  /** Milliseconds until the call's deadline (default: the client's request timeout, 5000). Sent to the server. */
  timeout?: number;
  /** Aborts the call; the server's handler sees its `context.signal` fire. */
  signal?: AbortSignal;
  /** Sent to the server as the request's metadata. */
  metadata?: Metadata;
  /** Retries on retryable errors (timeouts, connection failures), never on application errors. */
  retries?: number;
  /** Skip discovery and call this address (or one of these) directly. */
  address?: string | readonly string[];
  /** Content type on the wire: `application/protobuf` (default) or `application/json`. */
  contentType?: string;
  /** Receives the metadata the handler set on its context's `responseMetadata`. */
  onResponseMetadata?: (metadata: Metadata) => void;
}

/** What to call: the service name in the registry, and the method's definition. */
export interface CallTarget<I = any, O = any> {
  /** Registered service name, e.g. `greeter` (or `com.example.srv.greeter`). */
  service: string;
  /** Endpoint name, e.g. `Greeter.Hello`. */
  endpoint: string;
  method: MethodDefinition<I, O>;
  /**
   * The gRPC path `/<package>.<Service>/<Method>` (generated clients set it from the definition's full name);
   * used when the node speaks gRPC. Without it the client takes the full name from the node's metadata.
   */
  path?: string;
}

/** Options for {@link Client.publish}. */
export interface PublishOptions<T = unknown> {
  /** How to encode the message; without one, the message is sent as JSON. */
  codec?: MessageCodec<T>;
  metadata?: Metadata;
  signal?: AbortSignal;
}

export interface Client {
  call<I, O>(target: CallTarget<I, O>, request: I, options?: CallOptions): Promise<O>;
  serverStream<I, O>(target: CallTarget<I, O>, request: I, options?: CallOptions): AsyncIterable<O>;
  clientStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options?: CallOptions): Promise<O>;
  bidiStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options?: CallOptions): AsyncIterable<O>;
  /** Publish a message to a topic through the broker. */
  publish<T>(topic: string, message: T, options?: PublishOptions<T>): Promise<void>;
}

/** One call as client wrappers see it. */
export interface ClientRequest {
  readonly service: string;
  readonly endpoint: string;
  readonly method: MethodDefinition;
  /** The gRPC path, when the target gave one. */
  readonly path?: string;
  /** The request message, or for client and bidi streams the AsyncIterable of them. */
  readonly body: unknown;
  readonly options: CallOptions;
}

/**
 * The whole call: discovery, node selection, retries. Unary and client-streaming calls resolve to the
 * response; server and bidi streams resolve to the AsyncIterable of responses once the stream is open.
 */
export type ClientCallFunc = (request: ClientRequest) => Promise<unknown>;
/** Middleware around whole calls (Go Micro's `client.Wrapper`), onion order: the first is the outermost. */
export type ClientWrapper = (next: ClientCallFunc) => ClientCallFunc;

/** One attempt at one node (after selection, inside the retry loop). */
export type CallFunc = (node: NodeRecord, request: ClientRequest) => Promise<unknown>;
/** Middleware around each attempt at a node (Go Micro's `client.CallWrapper`), onion order. */
export type CallWrapper = (next: CallFunc) => CallFunc;

/** One publish as publish wrappers see it. A wrapper may pass on a copy with other `options.metadata`. */
export interface PublishRequest {
  readonly topic: string;
  readonly message: unknown;
  readonly options: PublishOptions<any>;
}
/** A publish through the broker (after encoding nothing yet: the innermost function encodes and sends). */
export type PublishFunc = (request: PublishRequest) => Promise<void>;
/** Middleware around {@link Client.publish} (Go Micro's client wrapper `Publish`), onion order: the first is the outermost. */
export type PublishWrapper = (next: PublishFunc) => PublishFunc;

