/**
 * `newService`: a server, a client and their plugins in one object, as Go Micro's `micro.NewService`.
 * `init()` reads flags and MICRO_* variables (code options win); the plugins are built lazily, so a process
 * that only calls other services never listens, and etcd or NATS are loaded only when chosen.
 */
import type { Broker } from "../broker/index.js";
import type { CallWrapper, Client, ClientWrapper, PublishWrapper } from "../client/index.js";
import type { Metadata } from "../metadata/index.js";
import { RpcClient } from "../client/rpc-client.js";
import { brokerState, disconnectBroker } from "../broker/connect.js";
import type { AdminServer } from "../admin/http.js";
import { Health, serveHealth, statusLine } from "../health/index.js";
import { instrumentBroker, instrumentRegistry, metricsClientWrapper, metricsHandlerWrapper, metricsSubscriberWrapper } from "../metrics/wrappers.js";
import { serveMetrics } from "../metrics/serve.js";
import { checkPluginNames, peerTransport, readConfig, resolvePlugins, transportOptionsFrom, type ConfigValues, type Plugins } from "../config/index.js";
import { MicroError } from "../errors/index.js";
import { applyLogLevelFromEnv, logger } from "../logger/index.js";
import type { Registry } from "../registry/index.js";
import type { Selector } from "../selector/index.js";
import type { HandlerWrapper, Server, SubscriberWrapper } from "../server/index.js";
import { RpcServer } from "../server/rpc-server.js";
import { tracingClientWrapper, tracingHandlerWrapper, tracingPublishWrapper, tracingSubscriberWrapper } from "../tracing/index.js";
import type { Transport } from "../transport/index.js";

/** A lifecycle hook; may be async. */
export type Hook = () => Promise<void> | void;

/** Options of {@link newService}. Options given here win over flags and environment variables. */
export interface ServiceOptions {
  /** The service name in the registry, e.g. `greeter` (flag `--server_name`). */
  name?: string;
  version?: string;
  metadata?: Metadata;
  /** Listen address, `host:port` (flag `--server_address`; default `127.0.0.1:0`). */
  address?: string;
  /** Address published in the registry (flag `--server_advertise`). */
  advertise?: string;
  registry?: Registry;
  transport?: Transport;
  broker?: Broker;
  selector?: Selector;
  /** Client wrappers around whole calls (first is outermost). */
  wrapClient?: ClientWrapper | readonly ClientWrapper[];
  /** Client wrappers around each attempt at a node. */
  wrapCall?: CallWrapper | readonly CallWrapper[];
  /** Handler wrappers (first is outermost). */
  wrapHandler?: HandlerWrapper | readonly HandlerWrapper[];
  /** Subscriber wrappers (first is outermost). */
  wrapSubscriber?: SubscriberWrapper | readonly SubscriberWrapper[];
  /** Publish wrappers around `client().publish` (first is outermost). */
  wrapPublish?: PublishWrapper | readonly PublishWrapper[];
  /**
   * OpenTelemetry spans for calls, handlers, publishes and deliveries, with W3C trace context in metadata and
   * message headers (default false). Adds the `tracing*Wrapper`s outermost; `@opentelemetry/api` is loaded at
   * the first traced call. The process installs the SDK and exporter itself (see README "Tracing").
   */
  tracing?: boolean;
  /** Seconds a registration lives (flag `--register_ttl`, default 90). */
  registerTTL?: number;
  /** Seconds between re-registrations (flag `--register_interval`, default 30). */
  registerInterval?: number;
  /** Client retries (flag `--client_retries`, default 1). */
  retries?: number;
  /** Client request timeout in ms (flag `--client_request_timeout`, default 5000). */
  requestTimeout?: number;
  /** Client connections per address (flag `--client_pool_size`, default 4). */
  poolSize?: number;
  /** Milliseconds in-flight calls get to finish on stop (default 10000; `--drain_timeout` / MICRO_DRAIN_TIMEOUT). */
  drainTimeout?: number;
  beforeStart?: Hook | readonly Hook[];
  afterStart?: Hook | readonly Hook[];
  beforeStop?: Hook | readonly Hook[];
  afterStop?: Hook | readonly Hook[];
  /** Stop on SIGINT and SIGTERM while running (default true). */
  handleSignals?: boolean;
  /** Arguments to read flags from (default `process.argv.slice(2)`). */
  argv?: readonly string[];
  /** Environment to read `MICRO_*` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

export interface Service {
  /** The service name. */
  readonly name: string;
  /** Read flags and MICRO_* variables (code options win). Checks plugin names; throws on an unknown one. */
  init(options?: ServiceOptions): void;
  /** The server; register handlers on it before `run()`. */
  server(): Server;
  /** The client; usable without `run()` (a pure client). */
  client(): Client;
  /** The resolved configuration (flags and environment under code options). */
  options(): Readonly<ServiceOptions & { values: ConfigValues }>;
  /** Build (once) and return the plugins; a failed build is not kept, so the next call tries again. */
  plugins(): Promise<Plugins>;
  /**
   * Readiness: the service's own checks (`server` registered, `broker` connected when used, not `draining`) and
   * yours (`health.addCheck(name, fn)`), served on `--health_address` and answered by `Debug.Health`.
   */
  readonly health: Health;
  /** The bound `host:port` of the `/health/*` and `/metrics` servers while running (those asked for by flags). */
  adminAddresses(): { health?: string; metrics?: string };
  /** Start the server and register; resolves after a clean stop (SIGINT, SIGTERM or `stop()`). */
  run(): Promise<void>;
  /**
   * Start without waiting for the stop (`run()` = `start()` + wait). Resolves at once when already running;
   * rejects (MicroError 500, "already starting") while another start is in progress, as `server.start()` does.
   */
  start(): Promise<void>;
  /** Deregister, drain, release the plugins. A start in progress is waited for first, then undone; `run()` resolves. */
  stop(): Promise<void>;
}

const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as readonly T[])] : [v as T]);

const log = logger("service");

class MicroService implements Service {
  private code: ServiceOptions;
  private values: ConfigValues = {};
  private initialized = false;
  private pluginsPromise: Promise<Plugins> | undefined;
  private srv: RpcServer | undefined;
  private cli: RpcClient | undefined;
  private running = false;
  private stopping: Promise<void> | undefined;
  /** The start in progress, which a stop() waits for. */
  private starting: Promise<void> | undefined;
  private stopped: { promise: Promise<void>; resolve: () => void } | undefined;
  private onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  readonly health = new Health();
  /** The metrics wrappers, made once when `--metrics_address` is set. */
  private metrics: { handler: HandlerWrapper; client: ClientWrapper; subscriber: SubscriberWrapper } | undefined;
  /** The `/metrics` and `/health/*` servers while running. */
  private admin: AdminServer[] = [];
  private untrackPool: (() => void) | undefined;

  constructor(options: ServiceOptions) {
    this.code = { ...options };
    this.health.addCheck("server", () => {
      const state = this.srv?.lifecycle ?? "idle";
      if (state !== "running") throw new Error(`server is ${state}, not registered`);
      return "registered";
    });
    this.health.addCheck("broker", async () => {
      const broker = this.pluginsPromise ? (await this.pluginsPromise).broker : undefined;
      const state = broker ? brokerState(broker) : "unused";
      if (state === "connecting") throw new Error(`broker ${broker!.name} is not connected yet`);
      return state === "connected" ? `${broker!.name} connected` : "not used";
    });
  }

  /** The metrics wrappers when `--metrics_address` / MICRO_METRICS_ADDRESS is set (prom-client loads then). */
  private metricsWrappers(): MicroService["metrics"] {
    if (!this.values.metrics_address) return undefined;
    return (this.metrics ??= { handler: metricsHandlerWrapper(), client: metricsClientWrapper(), subscriber: metricsSubscriberWrapper() });
  }

  get name(): string {
    return this.code.name ?? this.values.server_name ?? "";
  }

  init(options: ServiceOptions = {}): void {
    this.code = { ...this.code, ...options };
    this.values = readConfig(this.code.argv ?? process.argv.slice(2), this.code.env ?? process.env);
    // Plugins given in code are used as they are, whatever the flags say.
    checkPluginNames(this.values, this.givenPlugins());
    this.initialized = true;
    this.srv?.init(this.serverOptions());
  }

  options(): Readonly<ServiceOptions & { values: ConfigValues }> {
    const v = this.values;
    const c = this.code;
    return {
      ...c,
      name: this.name,
      version: c.version ?? v.server_version ?? "latest",
      address: c.address ?? v.server_address,
      advertise: c.advertise ?? v.server_advertise,
      registerTTL: c.registerTTL ?? v.register_ttl,
      registerInterval: c.registerInterval ?? v.register_interval,
      retries: c.retries ?? v.client_retries,
      requestTimeout: c.requestTimeout ?? v.client_request_timeout,
      poolSize: c.poolSize ?? v.client_pool_size,
      drainTimeout: c.drainTimeout ?? v.drain_timeout,
      values: v,
    };
  }

  plugins(): Promise<Plugins> {
    if (!this.initialized) this.init();
    if (!this.pluginsPromise) {
      const metered = this.metricsWrappers() !== undefined;
      const context = {
        ...(this.name ? { service: this.name } : {}),
        ...(metered ? { wrapRegistry: (r: Registry) => instrumentRegistry(r), wrapBroker: (b: Broker) => instrumentBroker(b) } : {}),
      };
      const pending: Promise<Plugins> = resolvePlugins(this.values, this.givenPlugins(), context).catch((error: unknown) => {
        // A failed setup (a plugin that cannot be built yet) is tried again by the next call, not kept forever.
        if (this.pluginsPromise === pending) this.pluginsPromise = undefined;
        throw error;
      });
      this.pluginsPromise = pending;
    }
    return this.pluginsPromise;
  }

  /** The plugins given in code (they win over flags and environment). */
  private givenPlugins(): Partial<Plugins> {
    const { registry, transport, broker, selector } = this.code;
    return {
      ...(registry ? { registry } : {}),
      ...(transport ? { transport } : {}),
      ...(broker ? { broker } : {}),
      ...(selector ? { selector } : {}),
    };
  }

  /** `rpc.system` of traced calls: `grpc` on the grpc transport, else micro's own protocol. */
  private rpcSystem(): "micro" | "grpc" {
    return (this.code.transport?.name ?? this.values.transport) === "grpc" ? "grpc" : "micro";
  }

  /** The broker's plugin name (`messaging.system` of traced publishes and deliveries). */
  private brokerName(): string {
    return this.code.broker?.name ?? this.values.broker ?? "direct";
  }

  private serverOptions() {
    const o = this.options();
    const m = this.metricsWrappers();
    return {
      name: o.name ?? "",
      version: o.version,
      metadata: o.metadata,
      address: o.address,
      advertise: o.advertise,
      registerTTL: o.registerTTL,
      registerInterval: o.registerInterval,
      wrappers: [...(o.tracing ? [tracingHandlerWrapper({ system: this.rpcSystem() })] : []), ...(m ? [m.handler] : []), ...list(o.wrapHandler)],
      subscriberWrappers: [...(o.tracing ? [tracingSubscriberWrapper({ messagingSystem: this.brokerName() })] : []), ...(m ? [m.subscriber] : []), ...list(o.wrapSubscriber)],
      drainTimeout: o.drainTimeout,
      status: async () => statusLine(await this.health.ready()),
      resolve: () => this.plugins(),
    };
  }

  server(): Server {
    this.srv ??= new RpcServer(this.serverOptions());
    return this.srv;
  }

  client(): Client {
    if (!this.cli) {
      const o = this.options();
      const cli = new RpcClient({
        resolve: () => this.plugins(),
        retries: o.retries,
        requestTimeout: o.requestTimeout,
        poolSize: o.poolSize,
        wrappers: [...(o.tracing ? [tracingClientWrapper({ system: this.rpcSystem() })] : []), ...(this.metricsWrappers() ? [this.metricsWrappers()!.client] : []), ...list(o.wrapClient)],
        callWrappers: list(o.wrapCall),
        publishWrappers: [...(o.tracing ? [tracingPublishWrapper({ messagingSystem: this.brokerName() })] : []), ...list(o.wrapPublish)],
        // Nodes on another transport than this service's are called over theirs, with the same TLS material.
        transportFor: (name) => peerTransport(name, this.code.transport ? {} : transportOptionsFrom(this.values)),
      });
      this.cli = cli;
      if (this.metricsWrappers()) {
        this.untrackPool?.();
        void import("../metrics/metrics.js")
          .then((mm) => mm.loadMetrics())
          .then(
            (mm) => {
              if (this.cli === cli) this.untrackPool = mm.trackPool(() => cli.openConnections());
            },
            (err: unknown) => log.debug({ err }, "pool gauge not tracked: metrics unavailable (logged by the wrappers)"),
          );
      }
    }
    return this.cli;
  }

  start(): Promise<void> {
    // As the server's start(): a second start while one is in progress is refused, saying so.
    if (this.starting) {
      return Promise.reject(new MicroError("micro.service", 500, `service ${this.name} is already starting: a start is in progress; await that one instead of calling start() again`));
    }
    const starting = this.doStart().finally(() => {
      if (this.starting === starting) this.starting = undefined;
    });
    this.starting = starting;
    return starting;
  }

  private async doStart(): Promise<void> {
    if (!this.initialized) this.init();
    if (!this.name) throw new Error("the service has no name: give newService({ name }) or --server_name");
    if (this.running) return;
    try {
      this.health.setDraining(false);
      await this.serveAdmin();
      await this.plugins();
      for (const hook of list(this.code.beforeStart)) await hook();
      const server = this.server() as RpcServer;
      server.init(this.serverOptions());
      await server.start();
    } catch (error) {
      // Release what was built so a failed start leaves nothing open (watchers, sockets).
      // The start's error is the one thrown; a failing cleanup is logged, not hidden (a record may stay behind).
      await this.doStop().catch((err: unknown) => log.warn({ err }, "cleanup after a failed start failed"));
      throw error;
    }
    this.running = true;
    this.stopped = withResolvers();
    if (this.code.handleSignals !== false) {
      this.onSignal = (signal) => {
        log.info({ signal, service: this.name }, "received signal; stopping");
        this.stop().catch((err: unknown) => {
          log.error({ err }, "stop failed");
          process.exitCode = 1;
        });
      };
      process.once("SIGINT", this.onSignal);
      process.once("SIGTERM", this.onSignal);
    }
    for (const hook of list(this.code.afterStart)) await hook();
  }

  /** Start the `--health_address` and `--metrics_address` servers (before the server, so probes see it come up). */
  private async serveAdmin(): Promise<void> {
    const v = this.values;
    if (v.health_address && !this.admin.some((a) => a === this.healthServer)) {
      this.healthServer = await serveHealth(v.health_address, this.health);
      this.admin.push(this.healthServer);
    }
    if (v.metrics_address && !this.admin.some((a) => a === this.metricsServer)) {
      this.metricsServer = await serveMetrics(v.metrics_address);
      this.admin.push(this.metricsServer);
    }
  }

  private healthServer: AdminServer | undefined;
  private metricsServer: AdminServer | undefined;

  /** Where `/health/*` and `/metrics` are served while running (`host:port`), when asked for. */
  adminAddresses(): { health?: string; metrics?: string } {
    return { ...(this.healthServer ? { health: this.healthServer.address } : {}), ...(this.metricsServer ? { metrics: this.metricsServer.address } : {}) };
  }

  async run(): Promise<void> {
    await this.start();
    await this.stopped!.promise;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAfterStart().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /**
   * A start in progress is waited for and then undone, so nothing comes up after stop() resolved. Once the
   * service is running (its afterStart hooks may call stop()), the stop does not wait for the start.
   */
  private async stopAfterStart(): Promise<void> {
    if (this.starting && !this.running) await this.starting.catch(() => undefined);
    await this.doStop();
  }

  private async doStop(): Promise<void> {
    if (this.onSignal) {
      process.removeListener("SIGINT", this.onSignal);
      process.removeListener("SIGTERM", this.onSignal);
      this.onSignal = undefined;
    }
    // Readiness fails first, so load balancers stop sending before the drain begins.
    this.health.setDraining(true);
    const wasRunning = this.running;
    if (wasRunning) for (const hook of list(this.code.beforeStop)) await hook();
    if (this.srv && wasRunning) await this.srv.stop();
    this.running = false;
    this.cli?.close();
    if (this.pluginsPromise) {
      const p = await this.pluginsPromise.catch(() => undefined);
      this.pluginsPromise = undefined;
      if (p) {
        // Release only what the service built; plugins given in code belong to the caller.
        if (!this.code.broker) await disconnectBroker(p.broker).catch((err: unknown) => log.warn({ err }, "broker disconnect failed"));
        if (!this.code.selector) await p.selector.close().catch((err: unknown) => log.warn({ err }, "selector close failed"));
        if (!this.code.registry) await p.registry.close().catch((err: unknown) => log.warn({ err }, "registry close failed"));
      }
    }
    this.cli = undefined;
    this.untrackPool?.();
    this.untrackPool = undefined;
    const admin = this.admin;
    this.admin = [];
    this.healthServer = this.metricsServer = undefined;
    await Promise.all(admin.map((a) => a.close()));
    if (wasRunning) for (const hook of list(this.code.afterStop)) await hook();
    this.stopped?.resolve();
  }
}

function withResolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A service: `init()` it, register handlers on `server()`, `run()` it; or just use its `client()`. */
export function newService(options: ServiceOptions = {}): Service {
  // MICRO_LOG_LEVEL set by the program after its imports (which made their loggers) still applies.
  applyLogLevelFromEnv();
  return new MicroService(options);
}
