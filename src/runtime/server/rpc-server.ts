/**
 * The default server (Go Micro's `rpc_server.go`): the lifecycle state machine (idle → starting → running →
 * stopping), registration with a TTL and a heartbeat that re-registers on an interval, and on stop
 * deregistration first, then unsubscribing, then draining. The handler table and dispatch are the router's
 * (router.ts), subscriptions are subscriber.ts's.
 */
import { randomUUID } from "node:crypto";
import type { Broker } from "../broker/index.js";
import type { Metadata } from "../metadata/index.js";
import { MicroError } from "../errors/index.js";
import { logger } from "../logger/index.js";
import type { Registry, ServiceRecord } from "../registry/index.js";
import type { ServiceDefinition } from "../definition/index.js";
import type { Listener, Transport } from "../transport/index.js";
import type { HandlerOptions, HandlerWrapper, Server, Subscriber, SubscriberWrapper } from "./server.js";
import { endpointRecord, transportMetadata } from "./registration.js";
import { startHeartbeat, type Heartbeat } from "../registry/heartbeat.js";
import { advertiseAddress } from "../transport/address.js";
import { SECURE_METADATA_KEY } from "../transport/tls.js";
import { Router } from "./router.js";
import { Subscriptions } from "./subscriber.js";

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
  /** What `Debug.Health` answers while running (default `ok`); the service answers its readiness here. */
  status?: () => string | Promise<string>;
}

const log = logger("server");

export class RpcServer implements Server {
  private options: ServerOptions;
  private readonly router: Router;
  private readonly subscriptions = new Subscriptions();
  private deps: ServerDeps | undefined;
  private listener: Listener | undefined;
  private record: ServiceRecord | undefined;
  private heartbeat: Heartbeat | undefined;
  private state: "idle" | "starting" | "running" | "stopping" = "idle";
  /** The start in progress, which a stop() waits for. */
  private starting: Promise<void> | undefined;
  private nodeId: string;
  private readonly servingListeners = new Set<(serving: boolean) => void>();

  constructor(options: ServerOptions) {
    this.options = { ...options };
    this.nodeId = options.id ?? `${options.name}-${randomUUID()}`;
    this.router = new Router(options.name, options.wrappers, () => (this.state === "running" ? (this.options.status?.() ?? "ok") : this.state));
  }

  /** Change options before start (the service applies flags here). */
  init(options: Partial<ServerOptions>): void {
    if (this.state !== "idle") throw new MicroError("micro.server", 500, "server options cannot change while it runs");
    this.options = { ...this.options, ...options };
    this.router.configure(this.options.name, this.options.wrappers);
    if (options.id) this.nodeId = options.id;
    else if (options.name) this.nodeId = `${options.name}-${randomUUID()}`;
  }

  get name(): string {
    return this.options.name;
  }
  get id(): string {
    return this.nodeId;
  }
  /** The lifecycle state: `running` once listening and registered, until a stop begins. */
  get lifecycle(): "idle" | "starting" | "running" | "stopping" {
    return this.state;
  }
  /** The address published in the registry (after start). */
  get address(): string | undefined {
    return this.record?.nodes[0]?.address;
  }

  /** True while the server is running and not draining (gRPC health's SERVING). */
  get serving(): boolean {
    return this.state === "running";
  }

  /** Hear of every change of {@link serving} (started; stopping, which comes before the drain). Returns the unsubscribe. */
  onServingChange(listener: (serving: boolean) => void): () => void {
    this.servingListeners.add(listener);
    return () => this.servingListeners.delete(listener);
  }

  private setState(state: "idle" | "starting" | "running" | "stopping"): void {
    const was = this.serving;
    this.state = state;
    if (was === this.serving) return;
    for (const l of [...this.servingListeners]) {
      try {
        l(this.serving);
      } catch (err) {
        log.error({ err }, "a serving-change listener threw");
      }
    }
  }

  /** Every service definition this server handles (built-in ones included), once each, in the order added. */
  definitions(): ServiceDefinition[] {
    const out = new Set<ServiceDefinition>();
    for (const e of this.router.handlers()) out.add(e.definition);
    return [...out];
  }

  /**
   * Add a handler. `options.internal` (Go Micro's internal handler) serves it without publishing its endpoints
   * in the registry — the way built-in services such as gRPC health and reflection are added.
   */
  handle(definition: ServiceDefinition, implementation: object, options: HandlerOptions = {}): void {
    this.router.handle(definition, implementation, options);
    if (this.state === "running") this.refresh();
  }

  subscribe<T>(subscriber: Subscriber<T>): void {
    this.subscriptions.add(subscriber as Subscriber<unknown>);
    if (this.state === "running") {
      this.subscriptions.subscribeLate(this.deps!.broker, subscriber as Subscriber<unknown>, this.subscriberWrappers());
      this.refresh();
    }
  }

  private subscriberWrappers(): readonly SubscriberWrapper[] {
    return this.options.subscriberWrappers ?? [];
  }

  private grpcStandard = false;

  /**
   * A grpc server also answers `grpc.health.v1.Health` and server reflection (v1, v1alpha), as generic gRPC
   * tools and probes expect; they are served but not put in the registry. A user service that already took one
   * of their endpoint names keeps it (logged).
   */
  private async addGrpcStandardServices(): Promise<void> {
    if (this.grpcStandard) return;
    this.grpcStandard = true;
    const { grpcStandardServices } = await import("../transport/grpc/reflection.js");
    try {
      grpcStandardServices(this);
    } catch (err) {
      log.warn({ err, service: this.options.name }, "the standard gRPC health and reflection services are not served: a handler of this server already uses their names");
    }
  }

  start(): Promise<void> {
    if (this.state !== "idle") return Promise.reject(new MicroError("micro.server", 500, `server ${this.options.name} is already ${this.state}`));
    this.setState("starting");
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
      if (deps.transport.name === "grpc") await this.addGrpcStandardServices();
      this.router.recompose();
      const router = this.router;
      this.listener = await deps.transport.listen(this.options.address ?? "127.0.0.1:0", (stream) => router.serve(stream), {
        ...(this.options.maxMessageSize ? { maxMessageSize: this.options.maxMessageSize } : {}),
      });
      await this.subscriptions.subscribeAll(deps.broker, this.subscriberWrappers());
      this.record = this.buildRecord(deps, advertiseAddress(this.listener.address, this.options.advertise, this.options.address));
      await deps.registry.register(this.record, { ttl: this.ttl() });
      const interval = Math.max(0.05, this.options.registerInterval ?? 30) * 1000;
      this.heartbeat = startHeartbeat(interval, () => this.refresh());
      this.setState("running");
      log.info({ service: this.options.name, id: this.nodeId, address: this.record.nodes[0]!.address, transport: deps.transport.name, registry: deps.registry.name, broker: deps.broker.name }, "server started");
    } catch (error) {
      this.setState("idle");
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

  private buildRecord(deps: ServerDeps, address: string): ServiceRecord {
    const version = this.options.version ?? "latest";
    const endpoints = [];
    const fullNames: string[] = [];
    for (const e of this.router.handlers()) {
      if (e.options.internal) continue;
      endpoints.push(endpointRecord(e.endpoint, e.method, e.options.metadata));
      fullNames.push(e.definition.fullName);
    }
    const topics = this.subscriptions.topics();
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
            ...transportMetadata(deps.transport.name, fullNames),
            server: "micro-ts",
            // Go Micro publishes subscribers as endpoints; here they are the node's topics, comma-separated.
            ...(topics.length > 0 ? { subscribers: topics.join(",") } : {}),
            // Clients dial this node with TLS (Go Micro's key).
            ...(deps.transport.secure ? { [SECURE_METADATA_KEY]: "true" } : {}),
          },
        },
      ],
    };
  }

  /** Deregister, stop accepting, drain. A start still in progress is waited for first, then undone. */
  async stop(): Promise<void> {
    if (this.state === "starting") await this.starting?.catch(() => undefined);
    if (this.state !== "running") return;
    this.setState("stopping");
    log.info({ service: this.options.name, id: this.nodeId }, "server stopping: deregistering, then draining");
    await this.cleanup();
    this.setState("idle");
    log.info({ service: this.options.name, id: this.nodeId }, "server stopped");
  }

  private async cleanup(): Promise<void> {
    this.subscriptions.endRun();
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    const deps = this.deps;
    if (deps && this.record) {
      await deps.registry.deregister(this.record).catch((err: unknown) => log.warn({ err }, "deregistration failed; the node expires with its TTL"));
    }
    await this.subscriptions.unsubscribeAll();
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.close(this.options.drainTimeout ?? 10_000);
    this.record = undefined;
    // Resolved plugins belong to whoever resolved them (the service releases them on stop): resolve anew on restart.
    if (!this.options.deps) this.deps = undefined;
  }
}

/** A server over the given plugins, or over plugins resolved at start. */
export function newServer(options: ServerOptions): RpcServer {
  return new RpcServer(options);
}
