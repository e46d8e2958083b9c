/**
 * The local registry: zero-config discovery across processes on one machine, with no daemon.
 *
 * Design. The registry is a directory (default `<tmpdir>/micro-ts-registry-<uid>`; `address` picks another,
 * which is how tests isolate themselves). Every registered node is one JSON file,
 * `<dir>/<service>/<version>@<node id>.json` (names escaped, see files.ts), holding the service record and
 * an expiry time. So:
 * - many processes register concurrently without locks: each write goes to a temporary file that is then
 *   renamed over the node file, which is atomic, so a reader never sees a partial record;
 * - a process killed with SIGKILL stops heartbeating; its files' expiry passes, readers ignore them from
 *   then on and remove them lazily — the registry heals itself without anyone deregistering;
 * - corrupted or foreign files are skipped with a warning, a missing directory is an empty registry.
 * `watch` rescans the directory when `fs.watch` reports a change, at the next expiry, and every
 * `pollInterval` ms as a fallback (fs.watch misses events on some filesystems), and diffs the live nodes
 * into create / update / delete events — including deletes caused by expiry. Nodes registered without a
 * TTL get {@link LOCAL_REGISTRY_TTL} seconds: on a shared directory nothing may live forever.
 * Watch timers and fs watchers do not keep the process alive.
 */
import { watch as fsWatch, type FSWatcher } from "node:fs";
import { mkdir } from "node:fs/promises";
import { MicroError } from "../../errors/index.js";
import { logger } from "../../logger/index.js";
import type { RegisterOptions, Registry, RegistryEvent, ServiceRecord, Watcher, WatchOptions } from "../index.js";
import { diffEntries, entryKey, groupEntries, toEntries, validateService, type NodeEntry } from "../records.js";
import { createWatcher, type WatcherFeed } from "../watcher.js";
import { code, nodeFile, removeFile, removeIfEmpty, serviceDir, writeEntry } from "./files.js";
import { ID, resolveOptions, type Options } from "./options.js";
import { Store } from "./store.js";

/** Seconds a node lives without a new registration when none is given (Go Micro's register TTL). */
export const LOCAL_REGISTRY_TTL = 90;

export { defaultLocalRegistryPath, type Options as LocalRegistryOptions } from "./options.js";

/** The zero-config registry shared by the processes of one machine through a directory. */
export function localRegistry(options: Options = {}): Registry {
  const { root, pollInterval, fsWatch } = resolveOptions(options);
  const log = logger("registry", { registry: "local", dir: root });
  const store = new Store(root, log);
  let scanner: Scanner | undefined;
  let closed = false;

  return {
    name: "local",
    async register(service: ServiceRecord, registerOptions?: RegisterOptions): Promise<void> {
      validateService(service, ID);
      const ttl = registerOptions?.ttl !== undefined && registerOptions.ttl > 0 ? registerOptions.ttl : LOCAL_REGISTRY_TTL;
      const now = Date.now();
      await scanner?.idle(); // the watch's snapshot must predate this change to report it
      await Promise.all(toEntries(service, now, now + ttl * 1000).map((entry) => writeEntry(root, entry))).catch((error) => {
        throw storageError(`cannot register ${service.name}`, root, error);
      });
      await scanner?.scan();
    },
    async deregister(service: ServiceRecord): Promise<void> {
      await scanner?.idle();
      await Promise.all((service.nodes ?? []).map((node) => removeFile(nodeFile(root, service.name, service.version, node.id)))).catch((error) => {
        throw storageError(`cannot deregister ${service.name}`, root, error);
      });
      await removeIfEmpty(serviceDir(root, service.name));
      await scanner?.scan();
    },
    async getService(name: string): Promise<ServiceRecord[]> {
      return groupEntries(await store.readService(name));
    },
    async listServices(): Promise<ServiceRecord[]> {
      return groupEntries(await store.readAll());
    },
    watch(watchOptions?: WatchOptions): Watcher {
      const feed = createWatcher(watchOptions, () => {
        if (scanner?.remove(feed)) scanner = undefined;
      });
      if (closed) {
        feed.end();
        return feed.watcher;
      }
      scanner ??= new Scanner(store, log, pollInterval, fsWatch);
      scanner.add(feed);
      return feed.watcher;
    },
    /** Ends the watches. Reads and writes keep working (they hold nothing open), so a late deregister still lands. */
    async close(): Promise<void> {
      closed = true;
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

/**
 * Keeps a snapshot of the live nodes and turns rescans into events for the watchers of one registry
 * instance. Scans are serialized; asking for a scan while one is waiting to start joins that one.
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
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly log: ReturnType<typeof logger>,
    private readonly pollInterval: number,
    private readonly useFsWatch: boolean,
  ) {
    // The first scan only records what exists: a watch reports changes from now on.
    this.tail = mkdir(store.root, { recursive: true, mode: 0o700 })
      .then(() => this.watchDir(store.root))
      .catch((error) => this.log.warn({ err: error }, "cannot create the local registry directory"));
    void this.scan();
  }

  add(feed: WatcherFeed): void {
    this.feeds.add(feed);
  }

  /** Remove a watcher; true when it was the last one and the scanner stopped. */
  remove(feed: WatcherFeed): boolean {
    this.feeds.delete(feed);
    if (this.feeds.size > 0 || this.closed) return false;
    this.close();
    return true;
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
    for (const w of this.dirWatchers.values()) w.close();
    this.dirWatchers.clear();
    for (const feed of [...this.feeds]) feed.end();
    this.feeds.clear();
  }

  private async run(): Promise<void> {
    if (this.closed) return;
    let entries: NodeEntry[];
    try {
      entries = await this.store.readAll();
    } catch (error) {
      this.log.warn({ err: error }, "cannot scan the local registry directory; retrying");
      this.schedule(undefined);
      return;
    }
    const next = new Map<string, NodeEntry>();
    let nextExpiry: number | undefined;
    for (const entry of entries) {
      next.set(entryKey(entry.name, entry.version, entry.node.id), entry);
      if (entry.expires !== undefined && (nextExpiry === undefined || entry.expires < nextExpiry)) nextExpiry = entry.expires;
    }
    const events: RegistryEvent[] = this.initialized ? diffEntries(this.snapshot, next) : [];
    this.snapshot = next;
    this.initialized = true;
    if (this.closed) return;
    for (const event of events) for (const feed of this.feeds) feed.push(event);
    this.watchServiceDirs(entries);
    this.schedule(nextExpiry);
  }

  /** Rescan at the next expiry or after the poll interval, whichever comes first. */
  private schedule(nextExpiry: number | undefined): void {
    clearTimeout(this.timer);
    const delay = Math.min(this.pollInterval, nextExpiry === undefined ? Infinity : Math.max(0, nextExpiry - Date.now() + 5));
    this.timer = setTimeout(() => void this.scan(), delay);
    this.timer.unref();
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
