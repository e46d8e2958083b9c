/**
 * A caching registry (Go Micro's `registry/cache`): what the client and the selector look services up
 * through. `getService` answers from memory for `ttl` ms; the underlying registry's watch keeps cached
 * entries current in between; when the underlying registry fails, the last known answer is served (stale)
 * with a warning, so a registry outage does not stop calls to services that were already known.
 */
import { logger } from "../logger/index.js";
import type { NodeRecord, RegisterOptions, Registry, RegistryEvent, ServiceRecord, Watcher, WatchOptions } from "./index.js";

export interface RegistryCacheOptions {
  /** Milliseconds a looked-up service is served from memory before it is looked up again (default 60000). */
  ttl?: number;
}

/** A registry with a read cache; see {@link cachedRegistry}. */
export interface CachedRegistry extends Registry {
  /** The registry being cached. */
  readonly underlying: Registry;
  /** Forget the cached answer for one service (or for all). */
  invalidate(name?: string): void;
  /**
   * Like `getService`, but returns the cached records themselves, deep-frozen, without copying them: the
   * selector's per-call path. Callers must not (and cannot) modify them.
   */
  lookup(name: string): Promise<readonly ServiceRecord[]>;
}

interface Entry {
  /** Deep-frozen; replaced, never changed in place, so a caller holding it sees one consistent answer. */
  services: readonly ServiceRecord[];
  /** Epoch ms until which the entry is fresh. */
  fresh: number;
}

/** One lookup of the underlying registry, shared by the callers that ask while it is in flight. */
interface Fetch {
  result: Promise<ServiceRecord[]>;
  /** Set by a watch event for the service that arrived while in flight: the result may predate it. */
  stale: boolean;
}

const cached = new WeakSet<Registry>();

/** Whether `registry` is already a {@link cachedRegistry} (so it is not wrapped twice). */
export function isCachedRegistry(registry: Registry): registry is CachedRegistry {
  return cached.has(registry);
}

/**
 * Wrap `registry` with a cache. `register`, `deregister`, `listServices` and `watch` go straight through;
 * `close` releases the cache's own watch and leaves the wrapped registry open (its owner closes it).
 */
export function cachedRegistry(registry: Registry, options: RegistryCacheOptions = {}): CachedRegistry {
  const ttl = options.ttl ?? 60_000;
  const log = logger("registry", { registry: registry.name, cache: true });
  const entries = new Map<string, Entry>();
  const inflight = new Map<string, Fetch>();
  let watcher: Watcher | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  /** Keep cached entries current from the registry's events; restart the watch if it breaks. */
  const startWatch = (): void => {
    if (watcher || closed || retry) return;
    let current: Watcher;
    try {
      current = registry.watch();
    } catch (error) {
      log.warn({ err: error }, "cannot watch the registry; cached services refresh on their TTL only");
      scheduleRestart();
      return;
    }
    watcher = current;
    void (async () => {
      try {
        for await (const event of current) apply(event);
        if (!closed && watcher === current) log.debug("registry watch ended; restarting it");
      } catch (error) {
        if (!closed) log.warn({ err: error }, "registry watch failed; cached services refresh on their TTL until it is back");
      }
      if (watcher === current) watcher = undefined;
      if (!closed) {
        // Events may have been missed: nothing cached can be trusted beyond its TTL any more.
        for (const entry of entries.values()) entry.fresh = Math.min(entry.fresh, Date.now());
        scheduleRestart();
      }
    })();
  };

  const scheduleRestart = (): void => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (entries.size > 0) startWatch();
    }, 1000);
    retry.unref();
  };

  /** Apply one event to the cached copy of its service (services not cached are looked up when asked). */
  const apply = (event: RegistryEvent): void => {
    // A lookup under way may have read the registry before this change: its answer must not replace it.
    const pending = inflight.get(event.service.name);
    if (pending) pending.stale = true;
    const entry = entries.get(event.service.name);
    if (!entry) return;
    const { service, action } = event;
    const index = entry.services.findIndex((s) => s.version === service.version);
    const services = [...entry.services];
    if (action === "delete") {
      if (index < 0) return;
      const gone = new Set(service.nodes.map((n) => n.id));
      const nodes = services[index].nodes.filter((n) => !gone.has(n.id));
      if (nodes.length === 0) services.splice(index, 1);
      else services[index] = frozen({ ...services[index], nodes });
    } else if (index < 0) {
      services.push(frozen(service));
    } else {
      const nodes = new Map<string, NodeRecord>(services[index].nodes.map((n) => [n.id, n]));
      for (const node of service.nodes) nodes.set(node.id, node);
      services[index] = frozen({
        ...service,
        nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      });
    }
    entry.services = Object.freeze(services);
  };

  const fetch = (name: string): Fetch => {
    let pending = inflight.get(name);
    if (!pending) {
      const record: Fetch = {
        stale: false,
        result: registry.getService(name).finally(() => {
          if (inflight.get(name) === record) inflight.delete(name);
        }),
      };
      inflight.set(name, record);
      pending = record;
    }
    return pending;
  };

  const self: CachedRegistry = {
    name: registry.name,
    underlying: registry,
    register: (service: ServiceRecord, registerOptions?: RegisterOptions) => registry.register(service, registerOptions),
    deregister: (service: ServiceRecord) => registry.deregister(service),
    listServices: () => registry.listServices(),
    watch: (watchOptions?: WatchOptions) => registry.watch(watchOptions),

    async getService(name: string): Promise<ServiceRecord[]> {
      return (await self.lookup(name)).map(copy);
    },

    async lookup(name: string): Promise<readonly ServiceRecord[]> {
      const entry = entries.get(name);
      if (entry && entry.fresh > Date.now()) return entry.services;
      if (!closed) startWatch();
      try {
        const pending = fetch(name);
        const services = Object.freeze((await pending.result).map(frozen));
        if (pending.stale) {
          // Watch events arrived while it was in flight: they are newer than this answer, so the cached entry
          // (which they updated) stays, and an uncached service is looked up again next time.
          return entries.get(name)?.services ?? services;
        }
        if (services.length > 0 && !closed) entries.set(name, { services, fresh: Date.now() + ttl });
        else entries.delete(name); // an absent service is looked up again next time, so it is found as soon as it registers
        return services;
      } catch (error) {
        const stale = entries.get(name);
        if (!stale) throw error;
        log.warn({ service: name, err: error }, "registry lookup failed; serving the last known nodes of the service");
        return stale.services;
      }
    },

    invalidate(name?: string): void {
      if (name === undefined) entries.clear();
      else entries.delete(name);
    },

    async close(): Promise<void> {
      closed = true;
      clearTimeout(retry);
      watcher?.stop();
      watcher = undefined;
      entries.clear();
    },
  };
  cached.add(self);
  return self;
}

function copy(service: ServiceRecord): ServiceRecord {
  return structuredClone(service) as ServiceRecord;
}

/** A deep-frozen copy. */
function frozen(service: ServiceRecord): ServiceRecord {
  return deepFreeze(structuredClone(service) as ServiceRecord);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
