/**
 * The default client: registry lookup through the selector, pooled multiplexed connections, retries with
 * exponential backoff (cockatiel) on timeouts and connection failures only, per-attempt deadlines sent to
 * the server, AbortSignal, metadata both ways, and client/call wrappers.
 */
import { randomUUID } from "node:crypto";
import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from "cockatiel";
import { codecFor, protobufCodec, JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE, type Codec, type MessageCodec } from "../codec/index.js";
import { MicroError } from "../errors/index.js";
import { classify, markFinal } from "../errors/classify.js";
import type { Broker } from "../broker/index.js";
import type { NodeRecord } from "../registry/index.js";
import type { Selector } from "../selector/index.js";
import type { ClientStream, Connection, Transport } from "../transport/index.js";
import type {
  CallFunc,
  CallOptions,
  CallTarget,
  CallWrapper,
  Client,
  ClientCallFunc,
  ClientRequest,
  ClientWrapper,
  PublishOptions,
} from "./index.js";
import type { Metadata } from "../metadata/index.js";
import { CallGuard, cancelled } from "./call-guard.js";
import { ConnectionPool } from "./pool.js";
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
  /** Around each attempt at a node (first is outermost). */
  callWrappers?: readonly CallWrapper[];
  /** Backoff between retries after the first, immediate one (milliseconds; defaults 25 and 1000). */
  backoff?: { initialDelay?: number; maxDelay?: number };
}

const EMPTY: Metadata = Object.freeze({}) as Metadata;
/** Shared by calls that give no options (no allocation per call). */
const NO_OPTIONS: CallOptions = Object.freeze({});
const noop = (): void => {};
const isRetryable = (error: unknown): boolean => classify(error).retryable;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RpcClient implements Client {
  private deps: ClientDeps | undefined;
  private depsPromise: Promise<ClientDeps> | undefined;
  private pool: ConnectionPool | undefined;
  private readonly retries: number;
  private readonly timeout: number;
  private readonly poolSize: number;
  private readonly codec: Codec;
  private readonly wrapped: ClientCallFunc | undefined;
  private readonly attempt: CallFunc;
  private readonly policies = new Map<number, RetryPolicy>();
  private readonly codecCache = new Map<string, Codec>();
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private closed = false;

  constructor(private readonly options: ClientOptions) {
    this.retries = options.retries ?? 1;
    this.timeout = options.requestTimeout ?? 5000;
    this.poolSize = options.poolSize ?? 4;
    this.codec = options.contentType ? codecFor(options.contentType) : protobufCodec;
    this.initialDelay = options.backoff?.initialDelay ?? 25;
    this.maxDelay = options.backoff?.maxDelay ?? 1000;
    if (options.deps) this.setDeps(options.deps);
    let attempt: CallFunc = (node, req) => this.attemptAt(node, req);
    for (const w of [...(options.callWrappers ?? [])].reverse()) attempt = w(attempt);
    this.attempt = attempt;
    const wrappers = options.wrappers ?? [];
    if (wrappers.length > 0) {
      let fn: ClientCallFunc = (req) => this.invoke(req);
      for (const w of [...wrappers].reverse()) fn = w(fn);
      this.wrapped = fn;
    }
  }

  private setDeps(deps: ClientDeps): ClientDeps {
    this.deps = deps;
    this.pool = new ConnectionPool(deps.transport, { size: this.poolSize, dialTimeout: Math.min(this.timeout, 5000) });
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
    const req: ClientRequest = { service: target.service, endpoint: target.endpoint, method: target.method, body: request, options };
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

  async publish<T>(topic: string, message: T, options: PublishOptions<T> = {}): Promise<void> {
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

  /** Close pooled connections. The plugins themselves belong to whoever made them. */
  close(): void {
    this.closed = true;
    this.pool?.close();
  }

  /** The innermost client call: retries around single attempts. */
  private invoke(req: ClientRequest): Promise<unknown> {
    if (this.deps === undefined) return this.ready().then(() => this.invoke(req));
    if (this.closed) return Promise.reject(markFinal(new MicroError("micro.client", 503, "client is closed")));
    const signal = req.options.signal;
    if (signal?.aborted) return Promise.reject(cancelled(req.endpoint, signal.reason));
    const retries = req.options.retries ?? this.retries;
    const first = this.once(req);
    if (retries <= 0) return first;
    return first.catch((error: unknown) => {
      if (!classify(error).retryable || signal?.aborted) throw error;
      return this.policy(retries).execute(() => this.once(req), signal);
    });
  }

  private policy(retries: number): RetryPolicy {
    let p = this.policies.get(retries);
    if (p === undefined) {
      // The first retry runs at once (the failed node is already marked); later ones back off exponentially.
      p = retry(handleWhen(isRetryable), {
        maxAttempts: retries - 1,
        backoff: new ExponentialBackoff({ initialDelay: this.initialDelay, maxDelay: this.maxDelay }),
      });
      this.policies.set(retries, p);
    }
    return p;
  }

  private async once(req: ClientRequest): Promise<unknown> {
    // A retry after close() must not dial again: nothing would ever close that connection.
    if (this.closed) throw markFinal(new MicroError("micro.client", 503, "client is closed"));
    const node = await this.pick(req);
    try {
      return await this.attempt(node, req);
    } catch (error) {
      if (req.options.address === undefined) this.deps!.selector.mark(req.service, node, error);
      throw error;
    }
  }

  private async pick(req: ClientRequest): Promise<NodeRecord> {
    const address = req.options.address;
    if (address !== undefined) {
      const list = typeof address === "string" ? [address] : address;
      if (list.length === 0) throw MicroError.badRequest("micro.client", "the address option is empty");
      const a = list.length === 1 ? list[0]! : list[Math.floor(Math.random() * list.length)]!;
      return { id: a, address: a, metadata: EMPTY };
    }
    const next = await this.deps!.selector.select(req.service);
    return next();
  }

  private codecOf(contentType: string | undefined): Codec {
    if (contentType === undefined) return this.codec;
    let c = this.codecCache.get(contentType);
    if (c === undefined) {
      c = codecFor(contentType);
      if (this.codecCache.size < 64) this.codecCache.set(contentType, c);
    }
    return c;
  }

  /** One attempt at one node, by method kind. */
  private attemptAt(node: NodeRecord, req: ClientRequest): Promise<unknown> {
    switch (req.method.kind) {
      case "unary":
        return this.unary(node, req);
      case "server_streaming":
        return this.openStream(node, req, false);
      case "client_streaming":
        return this.clientStreaming(node, req);
      case "bidi_streaming":
        return this.openStream(node, req, true);
      default:
        return Promise.reject(MicroError.badRequest("micro.client", `unknown method kind "${String(req.method.kind)}" for ${req.endpoint}`));
    }
  }

  private async connection(address: string): Promise<Connection> {
    return this.pool!.get(address);
  }

  private async unary(node: NodeRecord, req: ClientRequest): Promise<unknown> {
    const o = req.options;
    const codec = this.codecOf(o.contentType);
    const payload = codec.marshal(req.method.input, req.body);
    let conn = this.pool!.get(node.address);
    if (!("openStream" in conn)) conn = await conn;
    const timeout = o.timeout ?? this.timeout;
    const stream = conn.openStream({
      service: req.service,
      endpoint: req.endpoint,
      contentType: codec.contentType,
      metadata: o.metadata ?? EMPTY,
      deadline: Date.now() + timeout,
      kind: "unary",
    });
    const guard = o.signal !== undefined ? new CallGuard(stream, req.endpoint, o.signal) : undefined;
    stream.send(payload).catch(noop);
    stream.closeSend();
    return this.singleResponse(stream, codec, req, guard);
  }

  /**
   * The one response of a unary or client-streaming call: the first message is the result (any further ones
   * are drained), then the trailer's metadata goes to `onResponseMetadata`. With `pump` (client streaming),
   * a failure is final — the request messages were consumed and cannot be sent again — and a failing request
   * source is the error reported.
   */
  private async singleResponse(stream: ClientStream, codec: Codec, req: ClientRequest, guard: CallGuard | undefined, pump?: PumpState): Promise<unknown> {
    let result: unknown;
    let got = false;
    try {
      for await (const message of stream) {
        if (!got) {
          result = codec.unmarshal(req.method.output, message);
          got = true;
        }
      }
    } catch (error) {
      const mapped = guard !== undefined ? guard.map(error) : error;
      throw pump === undefined ? mapped : markFinal(pump.error !== undefined ? pump.error : mapped);
    } finally {
      guard?.done();
      if (pump !== undefined) pump.stopped = true;
    }
    if (!got) throw markFinal(new MicroError("micro.client", 502, `${req.endpoint}: the server ended the call without a response`));
    if (req.options.onResponseMetadata) req.options.onResponseMetadata((await stream.trailer).metadata);
    return result;
  }

  private async open(node: NodeRecord, req: ClientRequest, codec: Codec): Promise<ClientStream> {
    const o = req.options;
    const conn = await this.connection(node.address);
    return conn.openStream({
      service: req.service,
      endpoint: req.endpoint,
      contentType: codec.contentType,
      metadata: o.metadata ?? EMPTY,
      deadline: o.timeout !== undefined ? Date.now() + o.timeout : undefined,
      kind: req.method.kind,
    });
  }

  /** Server and bidi streams: resolves once the stream is open; responses come through the iterable. */
  private async openStream(node: NodeRecord, req: ClientRequest, bidi: boolean): Promise<AsyncIterable<unknown>> {
    const codec = this.codecOf(req.options.contentType);
    const payload = bidi ? undefined : codec.marshal(req.method.input, req.body);
    const stream = await this.open(node, req, codec);
    const guard = req.options.signal !== undefined ? new CallGuard(stream, req.endpoint, req.options.signal) : undefined;
    const pump: PumpState = { stopped: false };
    if (bidi) void this.pump(stream, codec, req.method.input, req.body as AsyncIterable<unknown>, pump);
    else {
      stream.send(payload!).catch(noop);
      stream.closeSend();
    }
    return this.responses(stream, codec, req, guard, pump);
  }

  private async *responses(stream: ClientStream, codec: Codec, req: ClientRequest, guard: CallGuard | undefined, pump: PumpState): AsyncGenerator<unknown> {
    let finished = false;
    try {
      for await (const message of stream) yield codec.unmarshal(req.method.output, message);
      finished = true;
    } catch (error) {
      finished = true;
      throw pump.error !== undefined ? pump.error : guard !== undefined ? guard.map(error) : error;
    } finally {
      guard?.done();
      pump.stopped = true;
      if (!finished) stream.cancel("the client stopped reading");
      else if (req.options.onResponseMetadata) req.options.onResponseMetadata((await stream.trailer).metadata);
    }
  }

  private async clientStreaming(node: NodeRecord, req: ClientRequest): Promise<unknown> {
    const o = req.options;
    const codec = this.codecOf(o.contentType);
    const stream = await this.open(node, req, codec);
    const guard = o.signal !== undefined ? new CallGuard(stream, req.endpoint, o.signal) : undefined;
    const pump: PumpState = { stopped: false };
    void this.pump(stream, codec, req.method.input, req.body as AsyncIterable<unknown>, pump);
    return this.singleResponse(stream, codec, req, guard, pump);
  }

  /** Send the caller's request messages; a failing source cancels the call with its error. */
  private async pump(stream: ClientStream, codec: Codec, input: MessageCodec<unknown>, requests: AsyncIterable<unknown>, state: PumpState): Promise<void> {
    try {
      for await (const r of requests) {
        if (state.stopped) return;
        await stream.send(codec.marshal(input, r));
      }
      if (!state.stopped) stream.closeSend();
    } catch (error) {
      if (state.stopped) return;
      state.error = error;
      stream.cancel(`the request stream failed: ${errorText(error)}`);
    }
  }
}

interface PumpState {
  stopped: boolean;
  error?: unknown;
}

/** An AsyncIterable that opens its source on first iteration (a stream call returns synchronously). */
function lazyIterable<T>(open: () => Promise<AsyncIterable<T>>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let inner: AsyncIterator<T> | undefined;
      let opening: Promise<AsyncIterator<T>> | undefined;
      const get = (): Promise<AsyncIterator<T>> => (opening ??= open().then((it) => (inner = it[Symbol.asyncIterator]())));
      return {
        next: async () => (await get()).next(),
        return: async (value?: unknown) => {
          if (inner?.return) return inner.return(value);
          if (opening && !inner) {
            const it = await opening.catch(() => undefined);
            if (it?.return) return it.return(value);
          }
          return { done: true, value: value as T };
        },
      };
    },
  };
}

/** A client over the given plugins, or over plugins resolved at the first call. */
export function newClient(options: ClientOptions): RpcClient {
  return new RpcClient(options);
}
