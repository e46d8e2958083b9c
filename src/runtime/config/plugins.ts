/**
 * The plugin tables: which registry, transport, broker and selector a name means. Each entry loads its
 * implementation lazily (`await import(...)`), so `etcd3`, the NATS client or amqplib are only loaded by a process
 * that chose them.
 */
import { MicroError } from "../errors/index.js";
import type { Broker } from "../broker/index.js";
import type { Registry } from "../registry/index.js";
import type { Selector } from "../selector/index.js";
import type { Transport } from "../transport/index.js";
import { hasTls, loadTlsFiles, type TransportTls } from "../transport/tls.js";
import type { ConfigValues } from "./flags.js";

/** Split a comma-separated address flag into its parts (empty → undefined). */
export function addressList(value: string | undefined): string[] | undefined {
  const parts = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return parts.length > 0 ? parts : undefined;
}

/** Builds a registry from its `--registry_address` parts. */
export type RegistryFactory = (addresses: string[] | undefined) => Promise<Registry>;
/** What every transport factory gets besides its addresses: the options the flags give every transport. */
export interface TransportFactoryOptions {
  /** From `--transport_tls_cert/key/ca` (files read and checked); absent: plaintext. */
  tls?: TransportTls;
}
/** Builds a transport from its `--transport_address` parts and the shared transport options. */
export type TransportFactory = (addresses: string[] | undefined, options: TransportFactoryOptions) => Promise<Transport>;
/**
 * Builds a broker; the `direct` broker needs the registry and transport it delivers through. `service` is the
 * name of the service the broker is built for (absent for a pure client).
 */
export type BrokerFactory = (addresses: string[] | undefined, deps: { registry: Registry; transport: Transport; service?: string }) => Promise<Broker>;
/** Builds a selector over a registry. */
export type SelectorFactory = (deps: { registry: Registry }) => Promise<Selector>;

/** Registries by `--registry` name; `local` is the default. */
export const registryPlugins: Readonly<Record<string, RegistryFactory>> = {
  local: async (addresses) => {
    const { localRegistry } = await import("../registry/local/index.js");
    return localRegistry(addresses ? { address: addresses[0] } : {});
  },
  memory: async () => {
    const { memoryRegistry } = await import("../registry/memory/index.js");
    return memoryRegistry();
  },
  etcd: async (addresses) => {
    const { etcdRegistry } = await import("../registry/etcd/index.js");
    return etcdRegistry(addresses ? { addresses } : {});
  },
  mdns: async (addresses) => {
    const { mdnsRegistry } = await import("../registry/mdns/index.js");
    return mdnsRegistry(addresses ? { addresses } : {});
  },
};

/** Transports by `--transport` name; `tcp` is the default, `grpc` speaks standard gRPC (docs/grpc.md). */
export const transportPlugins: Readonly<Record<string, TransportFactory>> = {
  tcp: async (_addresses, { tls }) => {
    const { tcpTransport } = await import("../transport/tcp/index.js");
    return tcpTransport(tls ? { tls } : {});
  },
  grpc: async (_addresses, { tls }) => {
    const { grpcTransport } = await import("../transport/grpc/index.js");
    return grpcTransport(tls ? { tls } : {});
  },
};

/**
 * The transport options the flags give (`--transport_tls_cert/key/ca`): the files are read here. A missing or
 * unreadable file, or a certificate without its key, is a 400 `MicroError` naming the flag.
 */
export function transportOptionsFrom(values: ConfigValues): TransportFactoryOptions {
  const files = { cert: values.transport_tls_cert, key: values.transport_tls_key, ca: values.transport_tls_ca };
  return hasTls(files) ? { tls: loadTlsFiles(files) } : {};
}

const peers = new Map<string, Promise<Transport>>();

/**
 * The transport a client uses for nodes that name another one than its own (a mixed tcp/grpc fleet): built
 * from {@link transportPlugins} with the same shared options (TLS) as the client's own; undefined for an
 * unknown name. Without TLS one is built per name and shared.
 */
export function peerTransport(name: string, options: TransportFactoryOptions = {}): Promise<Transport | undefined> {
  const factory = Object.hasOwn(transportPlugins, name) ? transportPlugins[name] : undefined;
  if (factory === undefined) return Promise.resolve(undefined);
  if (options.tls !== undefined) return factory(undefined, options);
  let t = peers.get(name);
  if (t === undefined) {
    t = factory(undefined, {});
    peers.set(name, t);
    t.catch(() => peers.delete(name));
  }
  return t;
}

/** Brokers by `--broker` name; `direct` is the default. */
export const brokerPlugins: Readonly<Record<string, BrokerFactory>> = {
  direct: async (addresses, { registry, transport }) => {
    const { directBroker } = await import("../broker/direct/index.js");
    return directBroker({ registry, transport, ...(addresses ? { address: addresses[0] } : {}) });
  },
  memory: async () => {
    const { memoryBroker } = await import("../broker/memory/index.js");
    return memoryBroker();
  },
  nats: async (addresses, { service }) => {
    const { natsBroker } = await import("../broker/nats/index.js");
    // The broker's name identifies durable subscribers outside a queue group: default it to the service's, so
    // that two services do not share one consumer (and each gets every message). MICRO_BROKER_NAME still wins.
    const named = (process.env.MICRO_BROKER_NAME ?? "") !== "";
    return natsBroker({ ...(addresses ? { servers: addresses } : {}), ...(service && !named ? { name: service } : {}) });
  },
  rabbitmq: async (addresses) => {
    const { rabbitmqBroker } = await import("../broker/rabbitmq/index.js");
    return rabbitmqBroker(addresses ? { servers: addresses } : {});
  },
};

/**
 * Selectors by `--selector` name: the caching selector (ejection with half-open probing, see
 * src/runtime/selector/README.md) with that strategy. `leastconn` is the default: the fewest calls in flight
 * wins, so a hung node (whose calls pile up unanswered) stops getting calls before any of them times out.
 */
export const selectorPlugins: Readonly<Record<string, SelectorFactory>> = {
  leastconn: cacheSelectorWith("leastConn"),
  latency: cacheSelectorWith("latency"),
  random: cacheSelectorWith("random"),
  roundrobin: cacheSelectorWith("roundRobin"),
};

/** The caching selector with one of the strategies selector/index.ts exports. */
function cacheSelectorWith(strategy: "leastConn" | "latency" | "random" | "roundRobin"): SelectorFactory {
  return async ({ registry }) => {
    const selectors = await import("../selector/index.js");
    return selectors.cacheSelector({ registry, strategy: selectors[strategy] });
  };
}

/** The default plugin of each kind. */
export const defaultPlugins = { registry: "local", transport: "tcp", broker: "direct", selector: "leastconn" } as const;

/** The four plugins a service or client runs on. */
export interface Plugins {
  registry: Registry;
  transport: Transport;
  broker: Broker;
  selector: Selector;
}

function pick<F>(kind: string, table: Readonly<Record<string, F>>, name: string): F {
  const factory = Object.hasOwn(table, name) ? table[name] : undefined;
  if (!factory) {
    throw MicroError.badRequest("micro.config", `unknown ${kind} "${name}"; available: ${Object.keys(table).join(", ")} (set with --${kind} or MICRO_${kind.toUpperCase()})`);
  }
  return factory;
}

/**
 * Check plugin names without loading anything; the names of plugins given in code (`given`) do not matter,
 * since those are used as they are. @throws MicroError (400) listing the available ones.
 */
export function checkPluginNames(values: ConfigValues, given: Partial<Plugins> = {}): void {
  if (given.registry || given.transport || given.broker || given.selector) {
    values = {
      ...values,
      ...(given.registry ? { registry: undefined } : {}),
      ...(given.transport ? { transport: undefined } : {}),
      ...(given.broker ? { broker: undefined } : {}),
      ...(given.selector ? { selector: undefined } : {}),
    };
  }
  pick("registry", registryPlugins, values.registry ?? defaultPlugins.registry);
  pick("transport", transportPlugins, values.transport ?? defaultPlugins.transport);
  pick("broker", brokerPlugins, values.broker ?? defaultPlugins.broker);
  pick("selector", selectorPlugins, (values.selector ?? defaultPlugins.selector).toLowerCase());
}

/** Who the plugins are built for. */
export interface PluginContext {
  /** The service's name: the NATS broker's default name (its durable subscribers' identity). */
  service?: string;
  /** Decorates the registry before the broker and selector get it (the service counts lookups with it). */
  wrapRegistry?: (registry: Registry) => Registry;
  /** Decorates the broker (the service counts publishes with it). */
  wrapBroker?: (broker: Broker) => Broker;
}

/**
 * Build the plugins named by `values` (flags/env, see `readConfig`), using the instances in `given` where the
 * code supplied one (code wins). Only the chosen implementations are loaded.
 * @throws MicroError (400) for an unknown name, listing the available ones.
 */
export async function resolvePlugins(values: ConfigValues, given: Partial<Plugins> = {}, context: PluginContext = {}): Promise<Plugins> {
  // Fail on any bad name before loading anything.
  checkPluginNames(values, given);
  const transportOptions = given.transport ? {} : transportOptionsFrom(values);
  const built = given.registry ?? (await pick("registry", registryPlugins, values.registry ?? defaultPlugins.registry)(addressList(values.registry_address)));
  const registry = context.wrapRegistry ? context.wrapRegistry(built) : built;
  const transport = given.transport ?? (await pick("transport", transportPlugins, values.transport ?? defaultPlugins.transport)(addressList(values.transport_address), transportOptions));
  const builtBroker = given.broker ?? (await pick("broker", brokerPlugins, values.broker ?? defaultPlugins.broker)(addressList(values.broker_address), { registry, transport, ...(context.service ? { service: context.service } : {}) }));
  const broker = context.wrapBroker ? context.wrapBroker(builtBroker) : builtBroker;
  const selector = given.selector ?? (await pick("selector", selectorPlugins, (values.selector ?? defaultPlugins.selector).toLowerCase())({ registry }));
  return { registry, transport, broker, selector };
}
