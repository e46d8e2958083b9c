/**
 * The caching selector (Go Micro's default `selector`): looks services up through a {@link cachedRegistry},
 * applies filters, skips nodes that recently failed to connect, and picks by strategy.
 * Filters and strategies receive the cache's shared, deep-frozen records: they return new arrays, never
 * modify what they are given.
 */
import { MicroError, fromError } from "../errors/index.js";
import { logger } from "../logger/index.js";
import { cachedRegistry, isCachedRegistry, type CachedRegistry } from "../registry/cache.js";
import type { NodeRecord, Registry, ServiceRecord } from "../registry/index.js";
import { Blacklist } from "./blacklist.js";
import { classify } from "../errors/classify.js";
import type { Next, SelectOptions, Selector, Strategy } from "./index.js";
import { random } from "./strategy.js";

/** Milliseconds a node that failed to connect is skipped (default). */
export const DEFAULT_BLACKLIST_TTL = 5000;

export interface CacheSelectorOptions {
  registry: Registry;
  /** How to pick among the nodes: {@link random} (default) or `roundRobin`. */
  strategy?: Strategy;
  /** Milliseconds a lookup is cached (default 60000; the registry's watch keeps it current meanwhile). */
  cacheTtl?: number;
  /**
   * Milliseconds a node is skipped after a connection failure (default 5000: long enough not to hit a dead
   * node on every call until its registration expires, short enough that a restarted node is used again
   * quickly).
   */
  blacklistTtl?: number;
}

const ID = "micro.selector";

/** The default selector. */
export function cacheSelector(options: CacheSelectorOptions): Selector {
  const registry = options.registry;
  const ownCache = !isCachedRegistry(registry);
  const cache: CachedRegistry = isCachedRegistry(registry) ? registry : cachedRegistry(registry, { ttl: options.cacheTtl ?? 60_000 });
  const strategy = options.strategy ?? random;
  const blacklist = new Blacklist(options.blacklistTtl ?? DEFAULT_BLACKLIST_TTL);
  const log = logger("selector");
  const keyOf = (service: string, node: NodeRecord): string => `${service}\u0000${node.id}`;

  return {
    name: "cache",

    async select(service: string, selectOptions?: SelectOptions): Promise<Next> {
      let services: readonly ServiceRecord[];
      try {
        services = await cache.lookup(service);
      } catch (error) {
        throw new MicroError(
          ID,
          500,
          `cannot look service ${service} up in the ${registry.name} registry: ${fromError(error).detail}`,
          undefined,
          { cause: error },
        );
      }
      const registered = countNodes(services);
      if (registered === 0) {
        throw MicroError.notFound(
          ID,
          `service ${service} not found: no node is registered in the ${registry.name} registry. ` +
            `Is it running, and on the same registry (--registry / MICRO_REGISTRY)? \`micro list services\` shows what is registered.`,
        );
      }
      for (const filter of selectOptions?.filters ?? []) services = filter(services);
      if (countNodes(services) === 0) {
        throw MicroError.notFound(ID, `service ${service}: none of its ${registered} registered nodes passes the selector's filters`);
      }
      // Fast path: nothing put aside (the usual case) needs no copying.
      const anyAside = services.some((s) => s.nodes.some((n) => blacklist.has(keyOf(service, n))));
      const usable = anyAside
        ? services.map((s) => ({ ...s, nodes: s.nodes.filter((n) => !blacklist.has(keyOf(service, n))) })).filter((s) => s.nodes.length > 0)
        : services;
      // Every node recently failed: try them all anyway rather than fail without trying.
      const pool = usable.length > 0 ? usable : services;
      if (usable.length === 0) log.debug({ service }, "every node was put aside after failures; trying them all again");
      const pick = (selectOptions?.strategy ?? strategy)(pool);
      const size = countNodes(pool);
      return () => {
        // Skip nodes marked since select() was called (a retry after a failure), as long as others remain.
        for (let i = 0; i < size; i++) {
          const node = pick();
          if (!blacklist.has(keyOf(service, node))) return node;
        }
        return pick();
      };
    },

    mark(service: string, node: NodeRecord, error?: unknown): void {
      if (error === undefined) {
        blacklist.delete(keyOf(service, node));
      } else if (classify(error).nodeFailure) {
        blacklist.add(keyOf(service, node));
        log.debug({ service, node: node.id, address: node.address, err: error }, "node unreachable; skipping it for a while");
      }
    },

    reset(service: string): void {
      cache.invalidate(service);
      blacklist.deletePrefix(`${service}\u0000`);
    },

    async close(): Promise<void> {
      blacklist.clear();
      if (ownCache) await cache.close();
    },
  };
}

function countNodes(services: readonly ServiceRecord[]): number {
  let n = 0;
  for (const s of services) n += s.nodes.length;
  return n;
}
