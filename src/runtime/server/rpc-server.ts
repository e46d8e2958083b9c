/**
 * The default server: serves handlers over the transport (protobuf or JSON by content type, replying in
 * the same one), runs handler wrappers, subscribes subscribers through the broker, registers the node with a
 * TTL and re-registers on an interval, and on stop deregisters first, then stops accepting and drains.
 */
import { randomUUID } from "node:crypto";
import type { Broker, Subscription } from "../broker/index.js";
import type { Metadata } from "../metadata/index.js";
import { connectBroker } from "../broker/connect.js";
import { codecFor, type Codec, type MessageCodec } from "../codec/index.js";
import type { MethodDefinition, ServiceDefinition } from "../definition/index.js";
import { MicroError, fromError } from "../errors/index.js";
import { logger } from "../logger/index.js";
import type { Registry, ServiceRecord } from "../registry/index.js";
import type { Listener, ServerStream, Transport } from "../transport/index.js";
import { HEALTH_ENDPOINT, healthMethod } from "./health.js";
import type {
  Context,
  HandlerFunc,
  HandlerOptions,
  HandlerWrapper,
  Server,
  Subscriber,
  SubscriberWrapper,
} from "./index.js";
import { PROTOCOL, advertiseAddress, endpointRecord } from "./registration.js";
import { brokerHandlerFor } from "./subscriber.js";

/** What the server runs on. */
export interface ServerDeps {
  registry: Registry;
  transport: Transport;
  broker: Broker;
}

export interface ServerOptions {
  /** The service name registered and answered to, e.g. `greeter`. */
  name: string;
  version?: string;
  /** Node id (default `<name>-<uuid>`). */
  id?: string;
  /** Listen address (default `127.0.0.1:0`). */
  address?: string;
  /** Address published in the registry (default: the bound address). */
  advertise?: string;
  /** Published with the service and its node. */
  metadata?: Metadata;
  /** The plugins, given directly… */
  deps?: ServerDeps;
  /** …or resolved at start. */
  resolve?: () => Promise<ServerDeps>;
  /** Seconds the registration lives without a refresh (default 90). */
  registerTTL?: number;
  /** Seconds between refreshes (default 30). */
  registerInterval?: number;
  /** Around every handler (first is outermost), outside each handler's own wrappers. */
  wrappers?: readonly HandlerWrapper[];
  /** Around every subscriber, outside each subscriber's own wrappers. */
  subscriberWrappers?: readonly SubscriberWrapper[];
  /** Milliseconds in-flight calls get to finish on stop (default 10000). */
  drainTimeout?: number;
  /** Largest accepted message in bytes (transport default when absent). */
  maxMessageSize?: number;
}

type Invoke = (body: unknown, context: Context) => unknown;

interface Entry {
  readonly endpoint: string;
  readonly definition: ServiceDefinition;
  readonly key: string;
  readonly method: MethodDefinition;
  readonly implementation: object;
  readonly options: HandlerOptions;
  invoke: Invoke;
}

const EMPTY_BYTES = new Uint8Array(0);
const noop = (): void => {};
const log = logger("server");

export class RpcServer implements Server {
  private options: ServerOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly subscribers: Subscriber<unknown>[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly codecCache = new Map<string, Codec>();
  private readonly health: Entry;
  private deps: ServerDeps | undefined;
  private listener: Listener | undefined;
  private record: ServiceRecord | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private state: "idle" | "starting" | "running" | "stopping" = "idle";
  /** Bumped by every cleanup: a subscription that completes after it belongs to a stopped run. */
  private generation = 0;
  /** The start in progress, which a stop() waits for. */
  private starting: Promise<void> | undefined;
  private nodeId: string;

  constructor(options: ServerOptions) {
    this.options = { ...options };
    this.nodeId = options.id ?? `${options.name}-${randomUUID()}`;
    this.health = {
      endpoint: HEALTH_ENDPOINT,
      definition: { name: "Debug", fullName: "micro.debug.Debug", methods: { health: healthMethod } },
      key: "health",
      method: healthMethod,
      implementation: {},
      options: { internal: true },
      invoke: () => ({ status: this.state === "running" ? "ok" : this.state }),
    };
  }

  /** Change options before start (the service applies flags here). */
  init(options: Partial<ServerOptions>): void {
    if (this.state !== "idle") throw new MicroError("micro.server", 500, "server options cannot change while it runs");
    this.options = { ...this.options, ...options };
    if (options.id) this.nodeId = options.id;
    else if (options.name) this.nodeId = `${options.name}-${randomUUID()}`;
  }

  get name(): string {
    return this.options.name;
  }
  get id(): string {
    return this.nodeId;
  }
  /** The address published in the registry (after start). */
  get address(): string | undefined {
    return this.record?.nodes[0]?.address;
  }

  handle(definition: ServiceDefinition, implementation: object, options: HandlerOptions = {}): void {
    const impl = implementation as Record<string, unknown>;
    for (const [key, method] of Object.entries(definition.methods)) {
      const endpoint = `${definition.name}.${method.name}`;
      if (typeof impl[key] !== "function") {
        throw new TypeError(`handler for ${definition.fullName} has no function "${key}" (endpoint ${endpoint}); implement every method of the service`);
      }
      if (this.entries.has(endpoint)) throw new TypeError(`endpoint ${endpoint} is already handled on this server`);
      const entry: Entry = { endpoint, definition, key, method, implementation, options, invoke: noop };
      this.compose(entry);
      this.entries.set(endpoint, entry);
    }
    if (this.state === "running") this.refresh();
  }

  subscribe<T>(subscriber: Subscriber<T>): void {
    this.subscribers.push(subscriber as Subscriber<unknown>);
    if (this.state === "running") {
      const deps = this.deps!;
      const generation = this.generation;
      void connectBroker(deps.broker)
        .then(() => this.subscribeOne(deps.broker, subscriber as Subscriber<unknown>, generation))
        .catch((err: unknown) => log.error({ err, topic: subscriber.topic }, "subscribe failed"));
    }
  }

  /** Build the wrapped call of one endpoint once, so serving a request allocates as little as possible. */
  private compose(entry: Entry): void {
    const impl = entry.implementation as Record<string, (body: unknown, context: Context) => unknown>;
    const fn = impl[entry.key]!;
    const wrappers = [...(this.options.wrappers ?? []), ...(entry.options.wrappers ?? [])];
    if (wrappers.length === 0) {
      entry.invoke = (body, context) => fn.call(impl, body, context);
      return;
    }
    let h: HandlerFunc = (request) => fn.call(impl, request.body, request.context);
    for (let i = wrappers.length - 1; i >= 0; i--) h = wrappers[i]!(h);
    const { definition, key } = entry;
    entry.invoke = (body, context) => h({ service: context.service, endpoint: context.endpoint, definition, method: key, body, context });
  }

  start(): Promise<void> {
    if (this.state !== "idle") return Promise.reject(new MicroError("micro.server", 500, `server ${this.options.name} is already ${this.state}`));
    this.state = "starting";
    const starting = this.doStart().finally(() => {
      if (this.starting === starting) this.starting = undefined;
    });
    this.starting = starting;
    return starting;
  }

  private async doStart(): Promise<void> {
    try {
      const deps = (this.deps ??= this.options.deps ?? (await this.options.resolve?.()));
      if (!deps) throw new MicroError("micro.server", 500, "server has no registry, transport and broker (give deps or resolve)");
      for (const entry of this.entries.values()) this.compose(entry);
      this.listener = await deps.transport.listen(this.options.address ?? "127.0.0.1:0", (stream) => this.serve(stream), {
        ...(this.options.maxMessageSize ? { maxMessageSize: this.options.maxMessageSize } : {}),
      });
      if (this.subscribers.length > 0) {
        await connectBroker(deps.broker);
        for (const s of this.subscribers) await this.subscribeOne(deps.broker, s, this.generation);
      }
      this.record = this.buildRecord(deps, advertiseAddress(this.listener.address, this.options.advertise));
      await deps.registry.register(this.record, { ttl: this.ttl() });
      const interval = Math.max(0.05, this.options.registerInterval ?? 30) * 1000;
      this.heartbeat = setInterval(() => this.refresh(), interval);
      this.heartbeat.unref();
      this.state = "running";
      log.info({ service: this.options.name, id: this.nodeId, address: this.record.nodes[0]!.address, transport: deps.transport.name, registry: deps.registry.name, broker: deps.broker.name }, "server started");
    } catch (error) {
      this.state = "idle";
      await this.cleanup();
      throw error;
    }
  }

  private ttl(): number {
    return this.options.registerTTL ?? 90;
  }

  /** Re-register (heartbeat, or after a handler was added while running). */
  private refresh(): void {
    const deps = this.deps;
    if (!deps || !this.record || this.state === "stopping") return;
    this.record = this.buildRecord(deps, this.record.nodes[0]!.address);
    deps.registry.register(this.record, { ttl: this.ttl() }).catch((err: unknown) => log.warn({ err, service: this.options.name }, "re-registration failed; retrying at the next interval"));
  }

  private async subscribeOne(broker: Broker, s: Subscriber<unknown>, generation: number): Promise<void> {
    const handler = brokerHandlerFor(s, this.options.subscriberWrappers ?? []);
    const sub = await broker.subscribe(s.topic, async (event) => {
      try {
        await handler(event);
      } catch (err) {
        log.warn({ err, topic: event.topic }, "subscriber failed");
        throw err;
      }
    }, {
      ...(s.options.queue ? { queue: s.options.queue } : {}),
      ...(s.options.durable ? { durable: true } : {}),
    });
    if (generation !== this.generation) {
      // The server stopped while this subscription was being made (subscribe() while running, then stop()):
      // nothing would ever unsubscribe it, and a restart subscribes again.
      await sub.unsubscribe().catch((err: unknown) => log.warn({ err, topic: sub.topic }, "unsubscribe failed"));
      return;
    }
    this.subscriptions.push(sub);
  }

  private buildRecord(deps: ServerDeps, address: string): ServiceRecord {
    const version = this.options.version ?? "latest";
    const endpoints = [];
    for (const e of this.entries.values()) if (!e.options.internal) endpoints.push(endpointRecord(e.endpoint, e.method, e.options.metadata));
    return {
      name: this.options.name,
      version,
      metadata: { ...this.options.metadata },
      endpoints,
      nodes: [
        {
          id: this.nodeId,
          address,
          metadata: {
            ...this.options.metadata,
            transport: deps.transport.name,
            broker: deps.broker.name,
            registry: deps.registry.name,
            protocol: PROTOCOL,
            server: "micro-ts",
          },
        },
      ],
    };
  }

  /** Deregister, stop accepting, drain. A start still in progress is waited for first, then undone. */
  async stop(): Promise<void> {
    if (this.state === "starting") await this.starting?.catch(() => undefined);
    if (this.state !== "running") return;
    this.state = "stopping";
    log.info({ service: this.options.name, id: this.nodeId }, "server stopping: deregistering, then draining");
    await this.cleanup();
    this.state = "idle";
    log.info({ service: this.options.name, id: this.nodeId }, "server stopped");
  }

  private async cleanup(): Promise<void> {
    this.generation += 1;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const deps = this.deps;
    if (deps && this.record) {
      await deps.registry.deregister(this.record).catch((err: unknown) => log.warn({ err }, "deregistration failed; the node expires with its TTL"));
    }
    for (const sub of this.subscriptions.splice(0)) {
      await sub.unsubscribe().catch((err: unknown) => log.warn({ err, topic: sub.topic }, "unsubscribe failed"));
    }
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.close(this.options.drainTimeout ?? 10_000);
    this.record = undefined;
    // Resolved plugins belong to whoever resolved them (the service releases them on stop): resolve anew on restart.
    if (!this.options.deps) this.deps = undefined;
  }

  private codecOf(contentType: string): Codec {
    let c = this.codecCache.get(contentType);
    if (c === undefined) {
      c = codecFor(contentType);
      if (this.codecCache.size < 64) this.codecCache.set(contentType, c);
    }
    return c;
  }

  private notFound(service: string, endpoint: string): MicroError {
    const names = [...this.entries.keys()].join(", ") || "none";
    if (service !== this.options.name) {
      return MicroError.notFound("micro.server", `unknown service "${service}": this server is "${this.options.name}" with endpoints ${names}`);
    }
    return MicroError.notFound("micro.server", `unknown endpoint "${endpoint}" on service "${service}"; it has: ${names}`);
  }

  /** Serve one stream; never throws (a failure ends that stream with an error). */
  private serve(stream: ServerStream): void {
    const h = stream.header;
    let entry = this.entries.get(h.endpoint);
    if (entry === undefined || h.service !== this.options.name) {
      if (h.endpoint === HEALTH_ENDPOINT) entry = this.health;
      else {
        stream.close(this.notFound(h.service, h.endpoint));
        return;
      }
    }
    let codec: Codec;
    try {
      codec = this.codecOf(h.contentType);
    } catch (error) {
      stream.close(fromError(error, "micro.server"));
      return;
    }
    const context = new CallContext(stream);
    const run = entry.method.kind === "unary" ? this.unary(stream, entry, codec, context) : this.streaming(stream, entry, codec, context);
    run.catch((error: unknown) => {
      const e = fromError(error, this.options.name);
      if (e.code >= 500 && !stream.signal.aborted) log.warn({ endpoint: h.endpoint, err: error }, "handler failed");
      stream.close(e, context.sentMetadata());
    });
  }

  private async unary(stream: ServerStream, entry: Entry, codec: Codec, context: CallContext): Promise<void> {
    const request = decodeRequest(codec, entry.method.input, await firstMessage(stream));
    const response = await entry.invoke(request, context);
    if (response === undefined || response === null) throw MicroError.internalServerError(this.options.name, `${entry.endpoint}: the handler returned no response`);
    stream.send(codec.marshal(entry.method.output, response)).catch(noop);
    stream.close(undefined, context.sentMetadata());
  }

  private async streaming(stream: ServerStream, entry: Entry, codec: Codec, context: CallContext): Promise<void> {
    const m = entry.method;
    const input = m.kind === "client_streaming" || m.kind === "bidi_streaming" ? decodeAll(stream, codec, m.input) : decodeRequest(codec, m.input, await firstMessage(stream));
    const result = await entry.invoke(input, context);
    if (m.kind === "client_streaming") {
      if (result === undefined || result === null) throw MicroError.internalServerError(this.options.name, `${entry.endpoint}: the handler returned no response`);
      await stream.send(codec.marshal(m.output, result));
    } else {
      if (result === null || typeof result !== "object" || !(Symbol.asyncIterator in result || Symbol.iterator in result)) {
        throw MicroError.internalServerError(this.options.name, `${entry.endpoint}: a streaming handler must return an (async) iterable, e.g. an async generator`);
      }
      for await (const message of result as AsyncIterable<unknown>) {
        if (stream.signal.aborted) break;
        await stream.send(codec.marshal(m.output, message));
      }
    }
    stream.close(undefined, context.sentMetadata());
  }
}

/**
 * A handler's context. The signal and the response metadata are created only when the handler touches
 * them, so a plain unary handler costs no AbortSignal and no extra object.
 */
class CallContext implements Context {
  readonly service: string;
  readonly endpoint: string;
  readonly metadata: Readonly<Metadata>;
  readonly deadline: number | undefined;
  private response: Metadata | undefined;

  constructor(private readonly stream: ServerStream) {
    const h = stream.header;
    this.service = h.service;
    this.endpoint = h.endpoint;
    this.metadata = h.metadata;
    this.deadline = h.deadline;
  }

  get signal(): AbortSignal {
    return this.stream.signal;
  }
  get responseMetadata(): Metadata {
    return (this.response ??= {});
  }
  /** The response metadata to send, if the handler set any. */
  sentMetadata(): Metadata | undefined {
    return this.response;
  }
}

async function firstMessage(stream: ServerStream): Promise<Uint8Array> {
  const r = await stream[Symbol.asyncIterator]().next();
  return r.done ? EMPTY_BYTES : r.value;
}

async function* decodeAll(stream: ServerStream, codec: Codec, input: MessageCodec<unknown>): AsyncGenerator<unknown> {
  for await (const bytes of stream) yield decodeRequest(codec, input, bytes);
}

/** Decode one request message; a malformed one is the caller's fault (400), not the handler's. */
function decodeRequest(codec: Codec, input: MessageCodec<unknown>, bytes: Uint8Array): unknown {
  try {
    return codec.unmarshal(input, bytes);
  } catch (error) {
    if (error instanceof MicroError) throw error;
    throw MicroError.badRequest("micro.server", `cannot decode ${input.typeName} from ${codec.contentType}: ${(error as Error)?.message ?? String(error)}`);
  }
}

/** A server over the given plugins, or over plugins resolved at start. */
export function newServer(options: ServerOptions): RpcServer {
  return new RpcServer(options);
}
