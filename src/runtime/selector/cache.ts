/**
 * The caching selector (Go Micro's default `selector`): looks services up through a {@link cachedRegistry},
 * applies filters, leaves out nodes that are out of rotation (ejected after a node failure, or dropped after
 * refusing connections), lets one probe call through to an ejected node when its ejection time is up, and
 * picks among the rest by strategy. The node states and their transitions are in health.ts.
 * Filters and strategies receive the cache's shared, deep-frozen records: they return new arrays, never
 * modify what they are given.
 */
import { MicroError, fromError } from "../errors/index.js";
import { logger } from "../logger/index.js";
import { cachedRegistry, isCachedRegistry, type CachedRegistry } from "../registry/cache.js";
import type { NodeRecord, Registry, ServiceRecord, Watcher } from "../registry/index.js";
import { Standing, ServiceHealth, Ticket, type HealthOptions, type NodeHealth } from "./health.js";
import type { Next, SelectOptions, Selection, Selector, Strategy } from "./selector.js";
import { random } from "./strategy.js";
import { positiveNumber } from "../internal/option-values.js";

/** Milliseconds a node is out of rotation after its first node failure (then doubling per failed probe). */
export const DEFAULT_EJECTION_TIME = 1000;
/** The longest ejection (milliseconds). */
export const DEFAULT_MAX_EJECTION_TIME = 10_000;
/** Consecutive refused connections after which a node is dropped until the registry announces it again. */
export const DEFAULT_DROP_AFTER = 3;
/** Milliseconds without an answer, calls in flight, after which a node counts as stalled (at least). */
export const DEFAULT_STALL_TIME = 250;

export interface CacheSelectorOptions {
  registry: Registry;
  /** How to pick among the nodes: {@link random} (default here; `--selector` defaults to `leastconn`), `roundRobin`, `leastConn`, `latency`. */
  strategy?: Strategy;
  /** Milliseconds a lookup is cached (default 60000; the registry's watch keeps it current meanwhile). */
  cacheTtl?: number;
  /**
   * Milliseconds a node stays out of rotation after a node failure (timeout, unreachable) before one probe call
   * is let through to it (default 1000); each failed probe doubles it, up to `maxEjectionTime`.
   */
  ejectionTime?: number;
  /** The longest ejection, in milliseconds (default 10000). */
  maxEjectionTime?: number;
  /** Consecutive refused connections after which a node is dropped until the registry announces it again (default 3). */
  dropAfter?: number;
  /** A probe whose outcome is not reported within this many ms is presumed lost and another is let through (default 30000). */
  probeLease?: number;
  /** Calls in flight and no answer for this many ms (or 8× the node's latency if longer) make a node stalled (default 250). */
  stallTime?: number;
  /** @deprecated The blacklist is gone: read as `ejectionTime`. */
  blacklistTtl?: number;
}

const ID = "micro.selector";

/** The default selector. */
export function cacheSelector(options: CacheSelectorOptions): Selector {
  const registry = options.registry;
  const ownCache = !isCachedRegistry(registry);
  const cache: CachedRegistry = isCachedRegistry(registry) ? registry : cachedRegistry(registry, { ttl: options.cacheTtl ?? 60_000 });
  const strategy = options.strategy ?? random;
  const healthOptions: HealthOptions = {
    ejectionTime: positive(options.ejectionTime ?? options.blacklistTtl, DEFAULT_EJECTION_TIME, "ejectionTime"),
    maxEjectionTime: positive(options.maxEjectionTime, DEFAULT_MAX_EJECTION_TIME, "maxEjectionTime"),
    dropAfter: positive(options.dropAfter, DEFAULT_DROP_AFTER, "dropAfter"),
    probeLease: positive(options.probeLease, 30_000, "probeLease"),
    stallTime: positive(options.stallTime, DEFAULT_STALL_TIME, "stallTime"),
  };
  healthOptions.maxEjectionTime = Math.max(healthOptions.maxEjectionTime, healthOptions.ejectionTime);
  const log = logger("selector");
  const services = new Map<string, ServiceHealth>();
  let closed = false;

  // Dropped nodes come back when the registry announces them: a watch runs while any node is dropped.
  let watcher: Watcher | undefined;
  const dropped = (): boolean => [...services.values()].some((s) => [...s.nodes.values()].some((h) => h.standing === Standing.Dropped));
  const watchAnnouncements = (): void => {
    if (watcher || closed) return;
    let current: Watcher;
    try {
      current = registry.watch();
    } catch (error) {
      log.debug({ err: error }, "cannot watch the registry; dropped nodes come back when a lookup gives them another address");
      return;
    }
    watcher = current;
    void (async () => {
      try {
        for await (const event of current) {
          const health = services.get(event.service.name);
          if (health === undefined) continue;
          for (const node of event.service.nodes) {
            if (event.action === "delete") health.forget(node.id);
            else health.announced(node.id);
          }
          if (!dropped()) break;
        }
      } catch (error) {
        log.debug({ err: error }, "registry watch for dropped nodes ended");
      }
      if (watcher === current) watcher = undefined;
      current.stop();
    })();
  };

  const healthOf = (service: string): ServiceHealth => {
    let h = services.get(service);
    if (h === undefined) {
      h = new ServiceHealth(healthOptions, (node) => {
        log.warn({ service, node: node.id, address: node.address }, `node refused ${healthOptions.dropAfter} connections in a row; dropped until the registry announces it again`);
        watchAnnouncements();
      });
      services.set(service, h);
    }
    return h;
  };

  async function lookup(service: string, selectOptions: SelectOptions | undefined): Promise<readonly ServiceRecord[]> {
    let found: readonly ServiceRecord[];
    try {
      found = await cache.lookup(service);
    } catch (error) {
      throw new MicroError(ID, 500, `cannot look service ${service} up in the ${registry.name} registry: ${fromError(error).detail}`, undefined, {
        cause: error,
      });
    }
    const registered = countNodes(found);
    if (registered === 0) {
      throw MicroError.notFound(
        ID,
        `service ${service} not found: no node is registered in the ${registry.name} registry. ` +
          `Is it running, and on the same registry (--registry / MICRO_REGISTRY)? \`micro list services\` shows what is registered.`,
      );
    }
    const filters = selectOptions?.filters;
    if (filters !== undefined && filters.length > 0) {
      for (const filter of filters) found = filter(found);
      if (countNodes(found) === 0) throw MicroError.notFound(ID, `service ${service}: none of its ${registered} registered nodes passes the selector's filters`);
    }
    return found;
  }

  /**
   * Choose a node among `found`: an ejected node due for its probe first (claiming the probe), else by strategy
   * among the nodes in rotation; when none is in rotation, among all of them rather than fail without trying.
   */
  function choose(service: string, health: ServiceHealth, found: readonly ServiceRecord[], use: Strategy, now: number): { node: NodeRecord; h: NodeHealth; serial: number } {
    if (health.aside === 0) {
      const node = use(found, health)();
      return { node, h: health.of(node.id), serial: 0 };
    }
    const usable: ServiceRecord[] = [];
    for (const s of found) {
      const nodes: NodeRecord[] = [];
      for (const node of s.nodes) {
        const h = health.nodes.get(node.id);
        if (h === undefined || h.standing === Standing.InRotation) {
          nodes.push(node);
          continue;
        }
        if (h.standing === Standing.Dropped && node.address !== h.droppedAddress) {
          health.announced(node.id); // the lookup gives it another address: announced again
          nodes.push(node);
          continue;
        }
        if (health.probeDue(h, now)) {
          log.debug({ service, node: node.id }, "ejection time up: one probe call goes to the node");
          return { node, h, serial: health.claimProbe(h, now) };
        }
      }
      if (nodes.length > 0) usable.push(nodes.length === s.nodes.length ? s : { ...s, nodes });
    }
    if (usable.length === 0) log.debug({ service }, "no node in rotation; trying them all");
    const node = use(usable.length > 0 ? usable : found, health)();
    return { node, h: health.of(node.id), serial: 0 };
  }

  return {
    name: "cache",

    async select(service: string, selectOptions?: SelectOptions): Promise<Next> {
      const found = await lookup(service, selectOptions);
      const health = healthOf(service);
      const use = selectOptions?.strategy ?? strategy;
      return () => choose(service, health, found, use, Date.now()).node;
    },

    async pick(service: string, selectOptions?: SelectOptions): Promise<Selection> {
      const found = await lookup(service, selectOptions);
      const health = healthOf(service);
      const now = Date.now();
      if (health.nodes.size > 2 * countNodes(found) + 8) health.prune(new Set(found.flatMap((s) => s.nodes.map((n) => n.id))));
      const { node, h, serial } = choose(service, health, found, selectOptions?.strategy ?? strategy, now);
      health.begin(h, now);
      return new Ticket(node, health, h, h.epoch, serial, performance.now());
    },

    mark(service: string, node: NodeRecord, error?: unknown): void {
      const health = healthOf(service);
      const h = health.of(node.id);
      const before = h.standing;
      // Not counted in flight; the outcome is the probe's when a probe is out (the caller of select cannot say).
      health.report(node, h, error, h.epoch, h.probe, 0, false);
      if (before === Standing.InRotation && h.standing === Standing.Ejected) {
        log.debug({ service, node: node.id, address: node.address, err: error }, "node failed; out of rotation until a probe answers");
      }
    },

    reset(service: string): void {
      cache.invalidate(service);
      services.delete(service);
    },

    async close(): Promise<void> {
      closed = true;
      services.clear();
      watcher?.stop();
      watcher = undefined;
      if (ownCache) await cache.close();
    },
  };
}

function positive(value: number | undefined, fallback: number, what: string): number {
  return positiveNumber(value, fallback, ID, "selector", what);
}

function countNodes(services: readonly ServiceRecord[]): number {
  let n = 0;
  for (const s of services) n += s.nodes.length;
  return n;
}
