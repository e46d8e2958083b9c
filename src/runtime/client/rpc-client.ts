/**
 * The default client: registry lookup through the selector, pooled multiplexed connections, retries with
 * exponential backoff on timeouts and connection failures only (retry.ts), per-attempt deadlines sent to
 * the server, AbortSignal, metadata both ways, and client/call wrappers. This file is the setup (options,
 * plugins resolved on first use) and the call's way from wrappers through retries to one attempt at a node;
 * the four call shapes are in calls.ts.
 */
import { randomUUID } from "node:crypto";
import { codecFor, protobufCodec, JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE, type Codec } from "../codec/index.js";
import { MicroError } from "../errors/index.js";
import { markFinal } from "../errors/classify.js";
import type { Broker } from "../broker/index.js";
import type { NodeRecord } from "../registry/index.js";
import type { Selector } from "../selector/index.js";
import type { Transport } from "../transport/index.js";
import type {
  CallFunc,
  CallOptions,
  CallTarget,
  CallWrapper,
  Client,
  ClientCallFunc,
  ClientRequest,
  ClientWrapper,
  PublishFunc,
  PublishOptions,
  PublishWrapper,
} from "./client.js";
import type { Metadata } from "../metadata/index.js";
import { applyWrappers } from "../internal/wrappers.js";
import { cancelled } from "./call-guard.js";
import { Calls, lazyIterable } from "./calls.js";
import { ConnectionPool } from "../transport/pool.js";
import { Retrier } from "./retry.js";
import { connectBroker } from "../broker/connect.js";

/** What the client runs on. */
export interface ClientDeps {
  selector: Selector;
  transport: Transport;
  /** Needed only by {@link Client.publish}. */
  broker?: Broker;
}

export interface ClientOptions {
  /** The plugins, given directly… */
  deps?: ClientDeps;
  /** …or resolved once, at the first call (the service passes its lazily built plugins). */
  resolve?: () => Promise<ClientDeps>;
  /** Retries on timeouts and connection failures (default 1, as Go Micro). */
  retries?: number;
  /** Milliseconds each unary attempt may take (default 5000). Streams have a deadline only when the call gives `timeout`. */
  requestTimeout?: number;
  /** Connections per address (default 4); each multiplexes many calls. */
  poolSize?: number;
  /** Content type when the call names none (default `application/protobuf`). */
  contentType?: string;
  /** Around whole calls (first is outermost). */
  wrappers?: readonly ClientWrapper[];
  /**
   * The transport for nodes whose metadata names another one than the client's (`transport: grpc` or Go
   * Micro's `protocol: grpc`), so one client calls a mixed fleet; the service passes its plugin table.
   * Without it, every node is called over the client's own transport.
   */
  transportFor?: (name: string) => Promise<Transport | undefined>;
  /** Around each attempt at a node (first is outermost). */
  callWrappers?: readonly CallWrapper[];
  /** Around each publish (first is outermost). */
  publishWrappers?: readonly PublishWrapper[];
  /** Backoff between retries after the first, immediate one (milliseconds; defaults 25 and 1000). */
  backoff?: { initialDelay?: number; maxDelay?: number };
}

const EMPTY: Metadata = Object.freeze({}) as Metadata;
/** Shared by calls that give no options (no allocation per call). */
const NO_OPTIONS: CallOptions = Object.freeze({});

export class RpcClient implements Client {
  private deps: ClientDeps | undefined;
  private depsPromise: Promise<ClientDeps> | undefined;
  private pool: ConnectionPool | undefined;
  /** Pools of the other transports nodes asked for, by name. */
  private readonly peerPools = new Map<string, Promise<ConnectionPool>>();
  private calls: Calls | undefined;
  private readonly timeout: number;
  private readonly poolSize: number;
  private readonly codec: Codec;
  private readonly retrier: Retrier;
  private readonly wrapped: ClientCallFunc | undefined;
  private readonly attempt: CallFunc;
  private readonly publishWrapped: PublishFunc | undefined;
  private readonly tryOnce = (req: ClientRequest): Promise<unknown> => this.once(req);
  private closed = false;

  constructor(private readonly options: ClientOptions) {
    this.retrier = new Retrier(options);
    this.timeout = options.requestTimeout ?? 5000;
    this.poolSize = options.poolSize ?? 4;
    this.codec = options.contentType ? codecFor(options.contentType) : protobufCodec;
    if (options.deps) this.setDeps(options.deps);
    this.attempt = applyWrappers<CallFunc>(options.callWrappers ?? [], (node, req) => this.calls!.attempt(node, req));
    const wrappers = options.wrappers ?? [];
    this.wrapped = wrappers.length > 0 ? applyWrappers<ClientCallFunc>(wrappers, (req) => this.invoke(req)) : undefined;
    const publishWrappers = options.publishWrappers ?? [];
    this.publishWrapped = publishWrappers.length > 0 ? applyWrappers<PublishFunc>(publishWrappers, (req) => this.send(req.topic, req.message, req.options)) : undefined;
  }

  private setDeps(deps: ClientDeps): ClientDeps {
    this.deps = deps;
    this.pool = new ConnectionPool(deps.transport, { size: this.poolSize, dialTimeout: Math.min(this.timeout, 5000) });
    this.calls = new Calls((node) => this.poolFor(node), { timeout: this.timeout, codec: this.codec });
    return deps;
  }

  /** The plugins, resolving them on first use. */
  ready(): Promise<ClientDeps> {
    if (this.deps) return Promise.resolve(this.deps);
    if (!this.options.resolve) return Promise.reject(new MicroError("micro.client", 500, "client has neither deps nor resolve"));
    this.depsPromise ??= this.options.resolve().then(
      (d) => this.deps ?? this.setDeps(d),
      (error: unknown) => {
        // A failed resolve (say, a registry not up yet) is tried again by the next call, not kept forever.
        this.depsPromise = undefined;
        throw error;
      },
    );
    return this.depsPromise;
  }

  call<I, O>(target: CallTarget<I, O>, request: I, options: CallOptions = NO_OPTIONS): Promise<O> {
    const req: ClientRequest =
      target.path === undefined
        ? { service: target.service, endpoint: target.endpoint, method: target.method, body: request, options }
        : { service: target.service, endpoint: target.endpoint, method: target.method, path: target.path, body: request, options };
    return (this.wrapped ? this.wrapped(req) : this.invoke(req)) as Promise<O>;
  }

  clientStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options: CallOptions = NO_OPTIONS): Promise<O> {
    return this.call(target as CallTarget<any, O>, requests, options);
  }

  serverStream<I, O>(target: CallTarget<I, O>, request: I, options: CallOptions = NO_OPTIONS): AsyncIterable<O> {
    return lazyIterable(() => this.call(target as CallTarget<I, any>, request, options) as Promise<AsyncIterable<O>>);
  }

  bidiStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options: CallOptions = NO_OPTIONS): AsyncIterable<O> {
    return lazyIterable(() => this.call(target as CallTarget<any, any>, requests, options) as Promise<AsyncIterable<O>>);
  }

  publish<T>(topic: string, message: T, options: PublishOptions<T> = {}): Promise<void> {
    return this.publishWrapped ? this.publishWrapped({ topic, message, options }) : this.send(topic, message, options);
  }

  /** The innermost publish: encode, add the broker keys, send. */
  private async send<T>(topic: string, message: T, options: PublishOptions<T>): Promise<void> {
    const deps = await this.ready();
    if (!deps.broker) throw new MicroError("micro.client", 500, "publish needs a broker: give the client one (newService does)");
    if (options.signal?.aborted) throw cancelled(`publish ${topic}`, options.signal.reason);
    await connectBroker(deps.broker);
    const body = options.codec ? options.codec.encode(message) : new TextEncoder().encode(JSON.stringify(message ?? null));
    const header: Metadata = {
      ...options.metadata,
      "Content-Type": options.codec ? PROTOBUF_CONTENT_TYPE : JSON_CONTENT_TYPE,
      "Micro-Topic": topic,
      "Micro-Id": randomUUID(),
    };
    await deps.broker.publish(topic, { header, body });
  }

  /** Open pooled connections (0 before the first call and after close). */
  openConnections(): number {
    return this.closed ? 0 : (this.pool?.openConnections() ?? 0);
  }

  /** The pool for a node: the client's transport's, or the one of the transport the node's metadata names. */
  private poolFor(node: NodeRecord): ConnectionPool | Promise<ConnectionPool> {
    const name = nodeTransport(node);
    const main = this.pool!;
    if (name === undefined || name === this.deps!.transport.name || this.options.transportFor === undefined) return main;
    let pool = this.peerPools.get(name);
    if (pool === undefined) {
      pool = this.options.transportFor(name).then((t) => {
        if (t === undefined) return main;
        const p = new ConnectionPool(t, { size: this.poolSize, dialTimeout: Math.min(this.timeout, 5000) });
        if (this.closed) p.close();
        return p;
      });
      this.peerPools.set(name, pool);
      // A failed load is tried again by the next call.
      pool.catch(() => this.peerPools.delete(name));
    }
    return pool;
  }

  /** Close pooled connections. The plugins themselves belong to whoever made them. */
  close(): void {
    this.closed = true;
    this.pool?.close();
    for (const p of this.peerPools.values()) void p.then((pool) => pool.close(), () => undefined);
  }

  /** The innermost client call: retries around single attempts. */
  private invoke(req: ClientRequest): Promise<unknown> {
    if (this.deps === undefined) return this.ready().then(() => this.invoke(req));
    if (this.closed) return Promise.reject(markFinal(new MicroError("micro.client", 503, "client is closed")));
    const signal = req.options.signal;
    if (signal?.aborted) return Promise.reject(cancelled(req.endpoint, signal.reason));
    return this.retrier.run(this.tryOnce, req, req.options.retries ?? this.retrier.retries, signal);
  }

  /**
   * One attempt: pick a node, run the attempt (inside the call wrappers), tell the selector how it went (the
   * selector counts the call in flight meanwhile; a selector without `pick` hears of failures through `mark`).
   */
  private async once(req: ClientRequest): Promise<unknown> {
    // A retry after close() must not dial again: nothing would ever close that connection.
    if (this.closed) throw markFinal(new MicroError("micro.client", 503, "client is closed"));
    if (req.options.address !== undefined) return this.attempt(this.direct(req.options.address), req);
    const selector = this.deps!.selector;
    if (selector.pick === undefined) {
      const node = (await selector.select(req.service))();
      try {
        return await this.attempt(node, req);
      } catch (error) {
        selector.mark(req.service, node, error);
        throw error;
      }
    }
    const picked = await selector.pick(req.service);
    let result: unknown;
    try {
      result = await this.attempt(picked.node, req);
    } catch (error) {
      picked.done(error);
      throw error;
    }
    picked.done();
    return result;
  }

  /** The node for a call given an address (or a list to pick from at random): no discovery, no selector. */
  private direct(address: string | readonly string[]): NodeRecord {
    const list = typeof address === "string" ? [address] : address;
    if (list.length === 0) throw MicroError.badRequest("micro.client", "the address option is empty");
    const a = list.length === 1 ? list[0]! : list[Math.floor(Math.random() * list.length)]!;
    return { id: a, address: a, metadata: EMPTY };
  }
}

/**
 * The transport a node asks for: `grpc` when its metadata says `transport: grpc` or (Go Micro's grpc server)
 * `protocol: grpc`; another `transport` name on a micro-protocol node; undefined for the client's own.
 */
export function nodeTransport(node: NodeRecord): string | undefined {
  const m = node.metadata;
  if (m === undefined) return undefined;
  if (m.protocol === "grpc" || m.transport === "grpc") return "grpc";
  return m.protocol === "micro" ? m.transport : undefined;
}

/** A client over the given plugins, or over plugins resolved at the first call. */
export function newClient(options: ClientOptions): RpcClient {
  return new RpcClient(options);
}
