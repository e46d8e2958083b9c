/**
 * What Tab completes from: the service names and endpoint names in the registry, kept in memory. Names are
 * listed once and then kept current by the registry's watch (a node registering adds its service; the last
 * node leaving removes it); endpoints are looked up through a caching registry (runtime/registry/cache.ts),
 * which its own watch keeps current. When the watch fails or ends, the names are listed again at the next Tab.
 * A registry without a watch (one reached through a sidecar's HTTP API) is simply asked at every Tab.
 */
import { cachedRegistry, isCachedRegistry, type CachedRegistry } from "../../runtime/registry/cache.js";
import type { Registry } from "../../runtime/registry/index.js";
import { logger } from "../../runtime/logger/index.js";
import { serviceNames } from "../../runtime/registry/describe.js";

const log = logger("cli");

/** Where completion gets its names. */
export interface CompletionSource {
  /** Registered service names, sorted (without the direct broker's internal entries). */
  services(): Promise<readonly string[]>;
  /** The endpoint names of `service`, sorted; empty when it is not registered. */
  endpoints(service: string): Promise<readonly string[]>;
}

/** What the catalog reads: a registry's lookups, and (a full {@link Registry}) its watch. */
export type CatalogRegistry = Registry | Pick<Registry, "listServices" | "getService">;

/** Whether `registry` is a whole registry (it can be watched and cached), not only its lookups. */
function isWholeRegistry(registry: CatalogRegistry): registry is Registry {
  return typeof (registry as Registry).watch === "function" && typeof (registry as Registry).register === "function";
}

/** A {@link CompletionSource} over a registry. `close()` stops its watch; the registry itself stays open. */
export class RegistryCatalog implements CompletionSource {
  /** Undefined for a registry that is only lookups: it is asked directly. */
  private readonly cache: CachedRegistry | undefined;
  private readonly ownCache: boolean;
  private names: Set<string> | undefined;
  private watching: AbortController | undefined;
  private closed = false;

  constructor(private readonly registry: CatalogRegistry) {
    this.ownCache = isWholeRegistry(registry) && !isCachedRegistry(registry);
    this.cache = !isWholeRegistry(registry) ? undefined : isCachedRegistry(registry) ? registry : cachedRegistry(registry);
  }

  async services(): Promise<readonly string[]> {
    if (!isWholeRegistry(this.registry)) return serviceNames(await this.registry.listServices());
    this.watch(this.registry);
    if (this.names === undefined) {
      const listed = serviceNames(await this.registry.listServices());
      // A watch event may have arrived while listing: it is newer, so it is kept.
      this.names ??= new Set(listed);
    }
    return [...this.names].sort();
  }

  async endpoints(service: string): Promise<readonly string[]> {
    const records = this.cache ? await this.cache.lookup(service) : await this.registry.getService(service);
    return [...new Set(records.flatMap((r) => r.endpoints.map((e) => e.name)))].sort();
  }

  /** Stop the watch and the cache of endpoints. */
  async close(): Promise<void> {
    this.closed = true;
    this.watching?.abort();
    if (this.ownCache) await this.cache?.close();
  }

  private watch(registry: Registry): void {
    if (this.watching || this.closed) return;
    const controller = new AbortController();
    this.watching = controller;
    void this.follow(registry, controller).finally(() => {
      if (this.watching === controller) this.watching = undefined;
      // Without a watch the names may go stale: list them again at the next Tab.
      this.names = undefined;
    });
  }

  private async follow(registry: Registry, controller: AbortController): Promise<void> {
    try {
      for await (const event of registry.watch({ signal: controller.signal })) {
        const name = event.service.name;
        if (serviceNames([event.service]).length === 0) continue;
        if (event.action !== "delete") this.names?.add(name);
        else if ((await registry.getService(name)).every((r) => r.nodes.length === 0)) this.names?.delete(name);
      }
    } catch (error) {
      if (!this.closed) log.debug({ err: error }, "registry watch for completion ended; names are listed again at the next Tab");
    }
  }
}
