/**
 * The local registry: zero-config discovery across processes on one machine, with no daemon.
 *
 * Design. The registry is a directory (default `<tmpdir>/micro-ts-registry-<uid>`; `address` picks another,
 * which is how tests isolate themselves). Every registered node is one JSON file,
 * `<dir>/<service>/<version>@<node id>.json` (names escaped, see files.ts), holding the service record and
 * an expiry time. So:
 * - many processes register concurrently without locks: each write goes to a temporary file that is then
 *   renamed over the node file, which is atomic, so a reader never sees a partial record;
 * - every record carries the `pid` and `host` of the process that wrote it (owner.ts): a reader on the same
 *   host drops the record of a process that is gone at once (liveness cached {@link LIVENESS_CACHE_MS} ms)
 *   and removes its file lazily; records of other hosts, or whose pid is reused, fall back to the expiry —
 *   a process killed with SIGKILL stops heartbeating, its files' expiry passes, readers ignore them from
 *   then on and remove them lazily — the registry heals itself without anyone deregistering;
 * - corrupted or foreign files are skipped with a warning, a missing directory is an empty registry;
 * - self-healing: a registry instance remembers the records it registered (with their expiry) and, while it
 *   holds any, watches the directory; when its scan finds one of them deleted, turned to garbage, or the whole
 *   directory gone, it recreates the directory and writes them again at once (not at the next heartbeat).
 *   Watches report the loss as `delete` events marked `vanished` (the directory was removed or replaced, or
 *   the file is garbage), which `cache.ts` bridges with its grace period; a deregistration or an expiry is
 *   a plain `delete`.
 * `watch` rescans the directory when `fs.watch` reports a change, at the next expiry, and every
 * `pollInterval` ms as a fallback (fs.watch misses events on some filesystems), and diffs the live nodes
 * into create / update / delete events — including deletes caused by expiry. Nodes registered without a
 * TTL get {@link LOCAL_REGISTRY_TTL} seconds: on a shared directory nothing may live forever.
 * Watch timers and fs watchers do not keep the process alive.
 */
import { watch as fsWatch, type FSWatcher } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { MicroError } from "../../errors/index.js";
import { logger } from "../../logger/index.js";
import type { RegisterOptions, Registry, RegistryEvent, ServiceRecord, Watcher, WatchOptions } from "../index.js";
import { diffEntries, entryKey, eventsOf, groupEntries, isLive, toEntries, validateService, type NodeEntry } from "../records.js";
import { createWatcher, type WatcherFeed } from "../watcher.js";
import { code, nodeFile, removeFile, removeIfEmpty, serviceDir, writeEntry, type StoredEntry } from "./files.js";
import { ID, resolveOptions, type Options } from "./options.js";
import { thisOwner, type LIVENESS_CACHE_MS } from "./owner.js";
import { Store } from "./store.js";

/** Seconds a node lives without a new registration when none is given (Go Micro's register TTL). */
export const LOCAL_REGISTRY_TTL = 90;

export { defaultLocalRegistryPath, type Options as LocalRegistryOptions } from "./options.js";

/** The records a registry instance wrote itself, and how to write back those its scan no longer finds. */
interface Healer {
  /** Whether it holds records (the scanner then keeps running without watches). */
  holds(): boolean;
  /** Write again the held, unexpired records missing from `found`; resolves with how many were written. */
  heal(found: ReadonlyMap<string, NodeEntry>): Promise<number>;
}

/** The zero-config registry shared by the processes of one machine through a directory. */
export function localRegistry(options: Options = {}): Registry {
  const { root, pollInterval, fsWatch } = resolveOptions(options);
  const log = logger("registry", { registry: "local", dir: root });
  const store = new Store(root, log);
  /** What this instance registered, by entry key, as last written: written again when it vanishes. */
  const owned = new Map<string, StoredEntry>();
  let scanner: Scanner | undefined;
  let closed = false;

  const healer: Healer = {
    holds: () => owned.size > 0 && !closed,
    async heal(found) {
      const now = Date.now();
      const missing = [...owned].filter(([key, entry]) => !found.has(key) && isLive(entry, now));
      await Promise.all(
        missing.map(async ([key, entry]) => {
          try {
            await writeEntry(root, entry);
            // Deregistered or registered again while this was written: the owner's latest word stands.
            const current = owned.get(key);
            if (current === undefined) await removeFile(nodeFile(root, entry.name, entry.version, entry.node.id));
            else if (current !== entry) await writeEntry(root, current);
          } catch (error) {
            log.warn({ err: error, service: entry.name, node: entry.node.id }, "cannot write a vanished registration again; the next heartbeat retries");
          }
        }),
      );
      if (missing.length > 0) log.warn({ nodes: missing.map(([, e]) => e.node.id) }, "registrations vanished from the local registry directory; wrote them again");
      return missing.length;
    },
  };
  const startScanner = (): Scanner => (scanner ??= new Scanner(store, log, pollInterval, fsWatch, healer));
  /** Stop the scanner once nothing needs it (no watch, nothing held). */
  const release = (): void => {
    if (scanner?.idleable()) {
      scanner.close();
      scanner = undefined;
    }
  };

  return {
    name: "local",
    async register(service: ServiceRecord, registerOptions?: RegisterOptions): Promise<void> {
      validateService(service, ID);
      const ttl = registerOptions?.ttl !== undefined && registerOptions.ttl > 0 ? registerOptions.ttl : LOCAL_REGISTRY_TTL;
      const now = Date.now();
      const active = closed ? scanner : startScanner();
      await active?.idle(); // the watch's snapshot must predate this change to report it
      const entries: StoredEntry[] = toEntries(service, now, now + ttl * 1000).map((entry) => ({ ...entry, ...thisOwner() }));
      if (!closed) for (const entry of entries) owned.set(entryKey(entry.name, entry.version, entry.node.id), entry);
      await Promise.all(entries.map((entry) => writeEntry(root, entry))).catch((error) => {
        throw storageError(`cannot register ${service.name}`, root, error);
      });
      await active?.scan();
    },
    async deregister(service: ServiceRecord): Promise<void> {
      for (const node of service.nodes ?? []) owned.delete(entryKey(service.name, service.version, node.id));
      await scanner?.idle();
      await Promise.all((service.nodes ?? []).map((node) => removeFile(nodeFile(root, service.name, service.version, node.id)))).catch((error) => {
        throw storageError(`cannot deregister ${service.name}`, root, error);
      });
      await removeIfEmpty(serviceDir(root, service.name));
      await scanner?.scan();
      release();
    },
    async getService(name: string): Promise<ServiceRecord[]> {
      return groupEntries(await store.readService(name));
    },
    async listServices(): Promise<ServiceRecord[]> {
      return groupEntries(await store.readAll());
    },
    watch(watchOptions?: WatchOptions): Watcher {
      const feed = createWatcher(watchOptions, () => {
        scanner?.remove(feed);
        release();
      });
      if (closed) {
        feed.end();
        return feed.watcher;
      }
      startScanner().add(feed);
      return feed.watcher;
    },
    /**
     * Ends the watches and the self-healing. Reads and writes keep working (they hold nothing open), so a late
     * deregister still lands.
     */
    async close(): Promise<void> {
      closed = true;
      owned.clear();
      const active = scanner;
      scanner = undefined;
      active?.close();
    },
  };
}

function storageError(what: string, root: string, error: unknown): MicroError {
  const reason = code(error) ?? (error instanceof Error ? error.message : String(error));
  return new MicroError(ID, 503, `${what}: the registry directory ${root} is not writable (${reason}); fix its permissions or choose another with --registry_address`, undefined, { cause: error });
}

/** The identity of the registry directory itself: a removed and recreated directory may reuse the inode, not the birth time. */
interface RootIdentity {
  readonly ino: number;
  readonly birth: number;
}

/**
 * Keeps a snapshot of the live nodes and turns rescans into events for the watchers of one registry
 * instance, and lets the instance's {@link Healer} write back its records when a scan misses them. Scans are
 * serialized; asking for a scan while one is waiting to start joins that one.
 */
class Scanner {
  private readonly feeds = new Set<WatcherFeed>();
  private snapshot = new Map<string, NodeEntry>();
  private initialized = false;
  private tail: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private poke: NodeJS.Timeout | undefined;
  private readonly dirWatchers = new Map<string, FSWatcher>();
  private rootIdentity: RootIdentity | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly log: ReturnType<typeof logger>,
    private readonly pollInterval: number,
    private readonly useFsWatch: boolean,
    private readonly healer: Healer,
  ) {
    // The first scan only records what exists: a watch reports changes from now on.
    void this.scan();
  }

  add(feed: WatcherFeed): void {
    this.feeds.add(feed);
  }

  remove(feed: WatcherFeed): void {
    this.feeds.delete(feed);
  }

  /** Whether nothing needs the scanner any more: no watch, no record to heal. */
  idleable(): boolean {
    return !this.closed && this.feeds.size === 0 && !this.healer.holds();
  }

  /** Resolves when no scan is running or waiting. */
  idle(): Promise<void> {
    return this.tail;
  }

  scan(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.queued) {
      const run = this.tail.then(() => {
        this.queued = undefined;
        return this.run();
      });
      this.queued = run;
      this.tail = run.catch(() => undefined);
    }
    return this.queued;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.poke);
    this.unwatchAll();
    for (const feed of [...this.feeds]) feed.end();
    this.feeds.clear();
  }

  private async run(): Promise<void> {
    if (this.closed) return;
    let entries: NodeEntry[];
    let replaced: boolean;
    try {
      replaced = await this.checkRoot();
      entries = await this.store.readAll();
      if (this.healer.holds() && (await this.healer.heal(keyed(entries))) > 0) entries = await this.store.readAll();
      const after = await rootIdentity(this.store.root);
      if (after === undefined || after.ino !== this.rootIdentity?.ino || after.birth !== this.rootIdentity.birth) {
        // The directory went away (or was replaced) while it was read: what the read missed was not
        // deregistered. Scan again at once: that scan sees the replacement and reports the loss as vanished.
        this.schedule(Date.now());
        return;
      }
    } catch (error) {
      this.log.warn({ err: error }, "cannot scan the local registry directory; retrying");
      this.schedule(undefined);
      return;
    }
    const next = keyed(entries);
    let nextExpiry: number | undefined;
    for (const entry of entries) if (entry.expires !== undefined && (nextExpiry === undefined || entry.expires < nextExpiry)) nextExpiry = entry.expires;
    const events: RegistryEvent[] = this.initialized ? this.diff(next, replaced) : [];
    this.snapshot = next;
    this.initialized = true;
    if (this.closed) return;
    for (const event of events) for (const feed of this.feeds) feed.push(event);
    this.watchServiceDirs(entries);
    this.schedule(nextExpiry);
  }

  /**
   * The events from the snapshot to `next`. Nodes that disappeared with the directory (`replaced`) or whose
   * file turned to garbage are reported as `vanished` deletes; the others (deregistered, expired, dead
   * process) as plain deletes.
   */
  private diff(next: ReadonlyMap<string, NodeEntry>, replaced: boolean): RegistryEvent[] {
    const before = new Map(this.snapshot);
    const lost: Array<readonly ["delete", NodeEntry]> = [];
    for (const [key, entry] of this.snapshot) {
      if (next.has(key)) continue;
      if (replaced || this.store.unreadable(nodeFile(this.store.root, entry.name, entry.version, entry.node.id))) {
        lost.push(["delete", entry]);
        before.delete(key);
      }
    }
    return [...diffEntries(before, next), ...eventsOf(lost).map((event) => ({ ...event, vanished: true }))];
  }

  /**
   * Make sure the directory exists (recreate it when it was removed) and tell whether it is not the one seen
   * by the last scan: then everything in it vanished, and the fs watchers on the old one are dead.
   */
  private async checkRoot(): Promise<boolean> {
    let identity = await rootIdentity(this.store.root);
    if (!identity) {
      await mkdir(this.store.root, { recursive: true, mode: 0o700 }).catch((error) => this.log.warn({ err: error }, "cannot create the local registry directory"));
      identity = await rootIdentity(this.store.root);
    }
    const previous = this.rootIdentity;
    this.rootIdentity = identity;
    const replaced = previous !== undefined && (identity === undefined || identity.ino !== previous.ino || identity.birth !== previous.birth);
    if (replaced) this.unwatchAll();
    if (identity) this.watchDir(this.store.root);
    return replaced;
  }

  /** Rescan at the next expiry or after the poll interval, whichever comes first. */
  private schedule(nextExpiry: number | undefined): void {
    clearTimeout(this.timer);
    const delay = Math.min(this.pollInterval, nextExpiry === undefined ? Infinity : Math.max(0, nextExpiry - Date.now() + 5));
    this.timer = setTimeout(() => void this.scan(), delay);
    this.timer.unref();
  }

  private unwatchAll(): void {
    for (const w of this.dirWatchers.values()) w.close();
    this.dirWatchers.clear();
  }

  /** Watch the directory of every service that has nodes, and stop watching the others. */
  private watchServiceDirs(entries: readonly NodeEntry[]): void {
    const wanted = new Set(entries.map((e) => serviceDir(this.store.root, e.name)));
    wanted.add(this.store.root);
    for (const [dir, w] of this.dirWatchers) {
      if (!wanted.has(dir)) {
        w.close();
        this.dirWatchers.delete(dir);
      }
    }
    for (const dir of wanted) this.watchDir(dir);
  }

  private watchDir(dir: string): void {
    if (this.closed || !this.useFsWatch || this.dirWatchers.has(dir)) return;
    try {
      const w = fsWatch(dir, { persistent: false }, () => this.changed());
      w.on("error", () => {
        w.close();
        if (this.dirWatchers.get(dir) === w) this.dirWatchers.delete(dir);
        this.changed();
      });
      this.dirWatchers.set(dir, w);
    } catch (error) {
      // Not watchable here (or gone): the periodic rescan covers it.
      this.log.debug({ dir, err: error }, "fs.watch unavailable; relying on periodic rescans");
    }
  }

  /** Coalesce a burst of file events into one rescan. */
  private changed(): void {
    if (this.poke || this.closed) return;
    this.poke = setTimeout(() => {
      this.poke = undefined;
      void this.scan();
    }, 15);
    this.poke.unref();
  }
}

function keyed(entries: readonly NodeEntry[]): Map<string, NodeEntry> {
  return new Map(entries.map((entry) => [entryKey(entry.name, entry.version, entry.node.id), entry]));
}

async function rootIdentity(root: string): Promise<RootIdentity | undefined> {
  try {
    const s = await stat(root);
    return s.isDirectory() ? { ino: s.ino, birth: s.birthtimeMs } : undefined;
  } catch {
    return undefined;
  }
}
