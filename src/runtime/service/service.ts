/**
 * `newService`: a server, a client and their plugins in one object, as Go Micro's `micro.NewService`.
 * `init()` reads flags and MICRO_* variables (code options win); the plugins are built lazily, so a process
 * that only calls other services never listens, and etcd or NATS are loaded only when chosen.
 */
import type { Broker } from "../broker/index.js";
import type { CallWrapper, Client, ClientWrapper } from "../client/index.js";
import type { Metadata } from "../metadata/index.js";
import { RpcClient } from "../client/rpc-client.js";
import { disconnectBroker } from "../broker/connect.js";
import { checkPluginNames, peerTransport, readConfig, resolvePlugins, type ConfigValues, type Plugins } from "../config/index.js";
import { MicroError } from "../errors/index.js";
import { applyLogLevelFromEnv, logger } from "../logger/index.js";
import type { Registry } from "../registry/index.js";
import type { Selector } from "../selector/index.js";
import type { HandlerWrapper, Server, SubscriberWrapper } from "../server/index.js";
import { RpcServer } from "../server/rpc-server.js";
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

  constructor(options: ServiceOptions) {
    this.code = { ...options };
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
      const pending: Promise<Plugins> = resolvePlugins(this.values, this.givenPlugins(), this.name ? { service: this.name } : {}).catch((error: unknown) => {
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

  private serverOptions() {
    const o = this.options();
    return {
      name: o.name ?? "",
      version: o.version,
      metadata: o.metadata,
      address: o.address,
      advertise: o.advertise,
      registerTTL: o.registerTTL,
      registerInterval: o.registerInterval,
      wrappers: list(o.wrapHandler),
      subscriberWrappers: list(o.wrapSubscriber),
      drainTimeout: o.drainTimeout,
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
      this.cli = new RpcClient({
        resolve: () => this.plugins(),
        retries: o.retries,
        requestTimeout: o.requestTimeout,
        poolSize: o.poolSize,
        wrappers: list(o.wrapClient),
        callWrappers: list(o.wrapCall),
        transportFor: peerTransport,
      });
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
