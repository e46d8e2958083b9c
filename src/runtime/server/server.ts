/**
 * The server: holds handlers and subscribers, serves them over the transport, and registers itself.
 * Generated `registerGreeterHandler(server, handler)` calls {@link Server.handle}.
 */
import type { Metadata } from "../metadata/index.js";
import type { MessageCodec } from "../codec/index.js";
import type { ServiceDefinition } from "../definition/index.js";

/** What a handler receives beside its request. */
export interface Context {
  /** The service name the request was addressed to. */
  readonly service: string;
  /** The endpoint, e.g. `Greeter.Hello`. */
  readonly endpoint: string;
  /** The request's metadata. */
  readonly metadata: Readonly<Metadata>;
  /** Fires when the client cancels, the deadline passes, the connection drops or the server stops. */
  readonly signal: AbortSignal;
  /** The call's deadline (epoch milliseconds), if the client set one. */
  readonly deadline?: number;
  /** Metadata to send back with the response. */
  readonly responseMetadata: Metadata;
  /** The caller's verified account, set by `authHandlerWrapper` (undefined without auth or on a public endpoint without a token). */
  readonly account?: Account;
}

/**
 * Who made a call, from a verified token (Go Micro's `auth.Account` on JWT claims): `id` is the `sub` claim,
 * `scopes` the `scope` (space-separated) / `scp` / `scopes` claim, `roles` the `roles` claim, `claims` all of them.
 */
export interface Account {
  readonly id: string;
  readonly issuer?: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
}

/** The request a handler wrapper sees. */
export interface HandlerRequest {
  readonly service: string;
  readonly endpoint: string;
  readonly definition: ServiceDefinition;
  /** The TypeScript method key in `definition.methods`. */
  readonly method: string;
  /** The decoded request message, or for client and bidi streams the AsyncIterable of them. */
  readonly body: unknown;
  readonly context: Context;
}

/** A handler function as a wrapper sees it. Unary results are the response; streaming ones an AsyncIterable. */
export type HandlerFunc = (request: HandlerRequest) => Promise<unknown> | unknown;
/** Middleware around handlers, onion order: the first wrapper is the outermost. */
export type HandlerWrapper = (next: HandlerFunc) => HandlerFunc;

/** Options for one registered handler. */
export interface HandlerOptions {
  /** Wrappers for this handler only (run inside the server's own wrappers). */
  wrappers?: readonly HandlerWrapper[];
  /** Extra metadata published with every endpoint of this handler in the registry. */
  metadata?: Metadata;
  /** Not published in the registry (like Go Micro's `server.InternalHandler`). */
  internal?: boolean;
  /**
   * JSON requests may carry fields the request message does not have; they are skipped. By default an unknown
   * field is refused (400 `micro.codec` naming it), as proto3 JSON parsers do. As with proto3's "ignore unknown
   * fields" option, an unknown enum name is then skipped too (the field keeps its default).
   */
  allowUnknownJsonFields?: boolean;
}

/** A published message as a subscriber receives it. */
export interface SubscriberMessage<T> {
  readonly topic: string;
  readonly message: T;
  readonly metadata: Readonly<Metadata>;
}
export type SubscriberFunc<T = unknown> = (event: SubscriberMessage<T>) => Promise<void> | void;
export type SubscriberWrapper = (next: SubscriberFunc) => SubscriberFunc;

/** Options for {@link registerSubscriber}. */
export interface SubscriberOptions<T> {
  /** Queue group: each message goes to one member of the group instead of to every subscriber. */
  queue?: string;
  /** How to decode the payload; without one, it is parsed as JSON. */
  codec?: MessageCodec<T>;
  wrappers?: readonly SubscriberWrapper[];
  /** Broker-specific: durable (at-least-once) delivery where the broker supports it. */
  durable?: boolean;
}

export interface Subscriber<T = unknown> {
  readonly topic: string;
  readonly handler: SubscriberFunc<T>;
  readonly options: SubscriberOptions<T>;
}

export interface Server {
  /** Add a handler for a service definition; `implementation` has one function per key of `definition.methods`. */
  handle(definition: ServiceDefinition, implementation: object, options?: HandlerOptions): void;
  /** Add a subscriber; it subscribes when the server starts (or at once if it is running). */
  subscribe<T>(subscriber: Subscriber<T>): void;
  /** Listen, subscribe, register. */
  start(): Promise<void>;
  /** Deregister, stop accepting, drain in-flight calls, unsubscribe. */
  stop(): Promise<void>;
}

/** Subscribe a handler to a topic (Go Micro's `micro.RegisterSubscriber`). */
export function registerSubscriber<T>(topic: string, server: Server, handler: SubscriberFunc<T>, options: SubscriberOptions<T> = {}): void {
  server.subscribe({ topic, handler, options });
}

