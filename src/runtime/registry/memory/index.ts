/**
 * The in-process registry (Go Micro's `registry/memory`): for tests and for services that only talk to
 * themselves. Nodes registered with a TTL expire when it passes without a new registration; without a TTL
 * they stay until deregistered (nothing can die unnoticed inside one process).
 */
import type { RegisterOptions, Registry, RegistryEvent, ServiceRecord, Watcher, WatchOptions } from "../index.js";
import { diffEntries, entryKey, groupEntries, isLive, toEntries, validateService, type NodeEntry } from "../records.js";
import { createWatcher, type WatcherFeed } from "../watcher.js";

import { ID, resolveOptions, type MemoryRegistryOptions } from "./options.js";

export type { MemoryRegistryOptions } from "./options.js";

/** A registry that lives in this process only. */
export function memoryRegistry(options?: MemoryRegistryOptions): Registry {
  resolveOptions(options);
  const entries = new Map<string, NodeEntry>();
  const feeds = new Set<WatcherFeed>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const emit = (events: readonly RegistryEvent[]): void => {
    for (const event of events) for (const feed of feeds) feed.push(event);
  };

  /** Drop expired entries (with delete events) and arm the timer for the next expiry. */
  const sweep = (): void => {
    const now = Date.now();
    const before = new Map(entries);
    let next = Infinity;
    for (const [key, entry] of entries) {
      if (!isLive(entry, now)) entries.delete(key);
      else if (entry.expires !== undefined) next = Math.min(next, entry.expires);
    }
    if (entries.size !== before.size) emit(diffEntries(before, entries));
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (next !== Infinity && !closed) {
      timer = setTimeout(sweep, Math.max(0, next - now) + 1);
      timer.unref(); // a TTL must never keep the process alive
    }
  };

  /** Apply a change to the entries and tell the watchers what changed. */
  const change = (apply: () => void): void => {
    const before = new Map(entries);
    apply();
    emit(diffEntries(before, entries));
    sweep();
  };

  return {
    name: "memory",
    async register(service: ServiceRecord, options?: RegisterOptions): Promise<void> {
      validateService(service, ID);
      const now = Date.now();
      const ttl = options?.ttl;
      const expires = ttl !== undefined && ttl > 0 ? now + ttl * 1000 : undefined;
      change(() => {
        for (const entry of toEntries(service, now, expires)) entries.set(entryKey(entry.name, entry.version, entry.node.id), entry);
      });
    },
    async deregister(service: ServiceRecord): Promise<void> {
      change(() => {
        for (const node of service.nodes ?? []) entries.delete(entryKey(service.name, service.version, node.id));
      });
    },
    async getService(name: string): Promise<ServiceRecord[]> {
      const now = Date.now();
      return groupEntries([...entries.values()].filter((e) => e.name === name && isLive(e, now)));
    },
    async listServices(): Promise<ServiceRecord[]> {
      const now = Date.now();
      return groupEntries([...entries.values()].filter((e) => isLive(e, now)));
    },
    watch(options?: WatchOptions): Watcher {
      const feed = createWatcher(options, () => feeds.delete(feed));
      if (closed) feed.end();
      else feeds.add(feed);
      return feed.watcher;
    },
    async close(): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const feed of [...feeds]) feed.end();
    },
  };
}
