/**
 * A caching registry (Go Micro's `registry/cache`): what the client and the selector look services up
 * through. `getService` answers from memory for `ttl` ms; the underlying registry's watch keeps cached
 * entries current in between; when the underlying registry fails, the last known answer is served (stale)
 * with a warning, so a registry outage does not stop calls to services that were already known.
 *
 * Stale on vanish: a `delete` event marked `vanished` (the local registry's directory was removed or replaced,
 * or node files turned to garbage — see `RegistryEvent.vanished`) does not drop its nodes at once: they are
 * kept for `vanishGrace` ms while their owners write them again. A registration of the node (create/update
 * event) ends its grace; a plain delete (a deregistration by its owner, an expiry, a dead process) drops it at
 * once, as does the end of the grace. So callers keep working through a lost directory, and a real
 * deregistration is never delayed.
 */
import { logger } from "../logger/index.js";
import type { NodeRecord, RegisterOptions, Registry, RegistryEvent, ServiceRecord, Watcher, WatchOptions } from "./index.js";

export interface RegistryCacheOptions {
  /** Milliseconds a looked-up service is served from memory before it is looked up again (default 60000). */
  ttl?: number;
  /**
   * Milliseconds nodes reported `vanished` (not deregistered: lost with the registry's storage) are still
   * served while their owners register them again (default {@link DEFAULT_VANISH_GRACE}; 0 drops them at once).
   */
  vanishGrace?: number;
}

/** Default of {@link RegistryCacheOptions.vanishGrace}: a few seconds, several local-registry poll intervals. */
export const DEFAULT_VANISH_GRACE = 5000;

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
  /** Nodes kept after a `vanished` delete: by `version\0node id`, the epoch ms their grace ends. */
  vanishing?: Map<string, number>;
}

const vanishKey = (version: string, nodeId: string): string => `${version}\u0000${nodeId}`;

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
  const vanishGrace = options.vanishGrace ?? DEFAULT_VANISH_GRACE;
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
    if (action === "delete" && event.vanished && vanishGrace > 0) {
      // Lost with the storage, not deregistered: keep serving the nodes while their owners write them again.
      const until = Date.now() + vanishGrace;
      entry.vanishing ??= new Map();
      for (const node of service.nodes) {
        const key = vanishKey(service.version, node.id);
        if (!entry.vanishing.has(key)) entry.vanishing.set(key, until);
      }
      return;
    }
    if (entry.vanishing) {
      for (const node of service.nodes) entry.vanishing.delete(vanishKey(service.version, node.id));
      if (entry.vanishing.size === 0) entry.vanishing = undefined;
    }
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

  /** Drop the vanished nodes whose grace ended (without being registered again). */
  const expireVanished = (entry: Entry, now: number): void => {
    const vanishing = entry.vanishing!;
    const ended = new Set<string>();
    for (const [key, until] of vanishing) if (until <= now) ended.add(key);
    if (ended.size === 0) return;
    for (const key of ended) vanishing.delete(key);
    if (vanishing.size === 0) entry.vanishing = undefined;
    entry.services = Object.freeze(
      entry.services
        .map((s) => (s.nodes.some((n) => ended.has(vanishKey(s.version, n.id))) ? frozen({ ...s, nodes: s.nodes.filter((n) => !ended.has(vanishKey(s.version, n.id))) }) : s))
        .filter((s) => s.nodes.length > 0),
    );
    log.warn({ service: entry.services[0]?.name, nodes: [...ended] }, "vanished registry nodes did not come back within the grace period; dropped them");
  };

  /** Nodes of `entry` still in their vanish grace, as records (to serve when a lookup finds none). */
  const inGrace = (entry: Entry | undefined): readonly ServiceRecord[] | undefined => {
    if (!entry?.vanishing) return undefined;
    expireVanished(entry, Date.now());
    return entry.vanishing && entry.services.length > 0 ? entry.services : undefined;
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
      if (entry?.vanishing) expireVanished(entry, Date.now());
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
        if (services.length === 0) {
          // Vanished nodes not written back yet: keep serving them until their grace ends.
          const kept = inGrace(entries.get(name));
          if (kept) return kept;
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
