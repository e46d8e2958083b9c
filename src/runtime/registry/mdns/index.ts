/**
 * The mDNS registry (Go Micro's default registry, `registry/mdns`): zero configuration across the machines of
 * one network segment. Each registry speaks multicast DNS (`multicast-dns`) on `224.0.0.251:5353` (or
 * `ff02::fb`, or the group and interface of `--registry_address`):
 *
 * - **announce**: a registered node is announced at once (a PTR for `_micro._tcp.local` and its instance's
 *   TXT record carrying the whole node record, see `encoding.ts`), with the registration's TTL as the record
 *   TTL — or the `ttl` option for registrations without one, announced again every third of it;
 * - **answer**: a browse query is answered with every node this registry registered;
 * - **goodbye**: deregister and close announce the nodes with TTL 0;
 * - **browse**: every registry keeps what it hears in a cache; a record expires when its TTL passes without
 *   a new announcement (a SIGKILLed process's nodes disappear after their TTL), and changes reach watchers as
 *   create / update / delete events (`records.ts` diffs, `watcher.ts` queues).
 *
 * The first lookup (getService, listServices, watch) sends a browse query and listens `queryWait` ms for the
 * answers; later lookups answer from the cache. The socket opens on first use, so building the registry
 * sends nothing. Nodes this registry registered are answered from memory.
 */
import makeMdns from "multicast-dns";
import type { Answer } from "dns-packet";
import { MicroError } from "../../errors/index.js";
import { logger } from "../../logger/index.js";
import { withTimeout } from "../../internal/timeout.js";
import type { RegisterOptions, Registry, RegistryEvent, ServiceRecord, Watcher, WatchOptions } from "../index.js";
import { diffEntries, entryKey, groupEntries, isLive, toEntries, validateService, type NodeEntry } from "../records.js";
import { createWatcher, type WatcherFeed } from "../watcher.js";
import { encodeEntry, instanceName } from "./encoding.js";
import { ID, resolveOptions, type MdnsRegistryOptions } from "./options.js";
import { announcement, asked, browseQuery, heardRecords } from "./packets.js";

export type { MdnsRegistryOptions } from "./options.js";

type Socket = ReturnType<typeof makeMdns>;

/**
 * Create an mDNS registry (plugin name `"mdns"`). Defaults: IPv4 group 224.0.0.251 on every interface,
 * port 5353, domain `micro`, record TTL 60 s for registrations without one, first lookup waits 300 ms.
 */
export function mdnsRegistry(options?: MdnsRegistryOptions): Registry {
  const resolved = resolveOptions(options);
  const { serviceType } = resolved;
  const log = logger("registry", { registry: "mdns" });
  /** Every live node known: registered here or heard, by instance name. */
  const known = new Map<string, NodeEntry>();
  /** The instances this registry registered (answered from here, never overwritten by what is heard). */
  const own = new Set<string>();
  const feeds = new Set<WatcherFeed>();
  let socket: Promise<Socket> | undefined;
  let warm: Promise<void> | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let announceTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const nameOf = (entry: { name: string; version: string; node: { id: string } }) => instanceName(serviceType, entry.name, entry.version, entry.node.id).toLowerCase();

  const byKey = (entries: Iterable<NodeEntry>): Map<string, NodeEntry> => {
    const map = new Map<string, NodeEntry>();
    for (const entry of entries) map.set(entryKey(entry.name, entry.version, entry.node.id), entry);
    return map;
  };
  /** The live entries by service × version × node: what the records helpers diff and group. */
  const view = (): Map<string, NodeEntry> => {
    const now = Date.now();
    return byKey([...known.values()].filter((e) => isLive(e, now)));
  };
  const emit = (events: readonly RegistryEvent[]): void => {
    for (const event of events) for (const feed of feeds) feed.push(event);
  };

  /** Apply a change to `known` and tell the watchers what changed. */
  const change = (apply: () => void): void => {
    const before = view();
    apply();
    emit(diffEntries(before, view()));
    sweep();
  };

  /** Drop expired entries (a delete event each) and arm the timer for the next expiry. */
  function sweep(): void {
    const now = Date.now();
    const before = byKey(known.values());
    let next = Infinity;
    for (const [instance, entry] of known) {
      if (!isLive(entry, now)) {
        known.delete(instance);
        own.delete(instance);
      } else if (entry.expires !== undefined) next = Math.min(next, entry.expires);
    }
    if (known.size !== before.size) emit(diffEntries(before, byKey(known.values())));
    clearTimeout(sweepTimer);
    sweepTimer = undefined;
    if (next !== Infinity && !closed) {
      sweepTimer = setTimeout(sweep, Math.max(0, next - now) + 1);
      sweepTimer.unref(); // a TTL must never keep the process alive
    }
  }

  /** Seconds to announce `entry` for: what is left of its registration's TTL, else the `ttl` option. */
  const ttlOf = (entry: NodeEntry): number => (entry.expires === undefined ? resolved.ttl : Math.max(1, Math.ceil((entry.expires - Date.now()) / 1000)));

  const send = async (answers: Answer[]): Promise<void> => {
    const s = await open();
    await new Promise<void>((resolve, reject) => s.respond({ answers }, (error: Error | null) => (error ? reject(error) : resolve())));
  };

  const announce = async (entries: readonly NodeEntry[], goodbye = false): Promise<void> => {
    for (const entry of entries) {
      try {
        await send(announcement(serviceType, entry, goodbye ? 0 : ttlOf(entry)));
      } catch (error) {
        // Others learn the node from the next announcement or their next query; the registration itself stands.
        log.warn({ err: error, service: entry.name, node: entry.node.id }, goodbye ? "mDNS goodbye not sent" : "mDNS announcement not sent");
      }
    }
  };

  /** Learn from a response: new and refreshed records, goodbyes. */
  const heard = (answers: Answer[]): void => {
    const records = heardRecords(serviceType, answers);
    if (records.length === 0) return;
    const now = Date.now();
    change(() => {
      for (const { instance, entry, ttl } of records) {
        if (own.has(instance)) continue; // our own announcement, looped back
        if (ttl === 0) known.delete(instance);
        else known.set(instance, { ...entry, expires: now + ttl * 1000 });
      }
    });
  };

  /** Answer a browse query with every node registered here, or an instance query with that node. */
  const answer = (questions: Parameters<typeof asked>[1]): void => {
    const { all, instances } = asked(serviceType, questions);
    const now = Date.now();
    const mine = [...own].map((i) => known.get(i)).filter((e): e is NodeEntry => e !== undefined && isLive(e, now));
    const wanted = all ? mine : mine.filter((e) => instances.includes(nameOf(e)));
    if (wanted.length > 0) void announce(wanted);
  };

  function open(): Promise<Socket> {
    if (closed) return Promise.reject(closedError("use"));
    return (socket ??= new Promise<Socket>((resolve, reject) => {
      const s = makeMdns({
        type: resolved.type,
        ip: resolved.group,
        port: resolved.port,
        ...(resolved.interface !== undefined ? { interface: resolved.interface } : {}),
        // Bound to the wildcard address: a socket bound to the interface's own address would not get the group's packets.
        bind: resolved.type === "udp6" ? "::" : "0.0.0.0",
        reuseAddr: true,
      });
      const fail = (error: Error) => {
        s.destroy();
        socket = undefined;
        reject(new MicroError(ID, 503, `cannot open the mDNS socket on port ${resolved.port} (${resolved.group}${resolved.interface ? ` via ${resolved.interface}` : ""}): ${error.message}`, undefined, { cause: error }));
      };
      s.once("error", fail);
      s.once("ready", () => {
        s.off("error", fail);
        s.on("error", (error: Error) => log.warn({ err: error }, "mDNS socket error"));
        resolve(s);
      });
      s.on("warning", (error: Error) => log.debug({ err: error }, "mDNS warning (a malformed packet or a membership that could not be added)"));
      s.on("response", (packet) => heard([...(packet.answers ?? []), ...(packet.additionals ?? [])]));
      s.on("query", (packet) => answer(packet.questions ?? []));
    }));
  }

  /** The first lookup: ask who is there and listen for `queryWait` ms. */
  const warmUp = (): Promise<void> =>
    (warm ??= (async () => {
      const s = await open();
      await new Promise<void>((resolve) => s.query({ questions: browseQuery(serviceType) }, () => resolve()));
      await new Promise((r) => setTimeout(r, resolved.queryWait).unref());
    })().catch((error: unknown) => {
      warm = undefined;
      throw error;
    }));

  /** Announce the nodes registered without a TTL again, every third of the record TTL. */
  const keepAnnouncing = (): void => {
    if (announceTimer || closed) return;
    announceTimer = setInterval(() => {
      const now = Date.now();
      const mine = [...own].map((i) => known.get(i)).filter((e): e is NodeEntry => e !== undefined && isLive(e, now));
      if (mine.length > 0) void announce(mine);
    }, (resolved.ttl * 1000) / 3);
    announceTimer.unref();
  };

  function closedError(what: string): MicroError {
    return new MicroError(ID, 503, `cannot ${what}: the mdns registry is closed`);
  }

  return {
    name: "mdns",

    async register(service: ServiceRecord, registerOptions?: RegisterOptions): Promise<void> {
      validateService(service, ID);
      if (closed) throw closedError(`register service ${JSON.stringify(service.name)}`);
      const now = Date.now();
      const ttl = registerOptions?.ttl;
      const entries = toEntries(service, now, ttl !== undefined && ttl > 0 ? now + ttl * 1000 : undefined);
      for (const entry of entries) encodeEntry(entry); // too large: a 400 before anything changes
      await open();
      change(() => {
        for (const entry of entries) {
          const instance = nameOf(entry);
          own.add(instance);
          known.set(instance, entry);
        }
      });
      keepAnnouncing();
      await announce(entries);
    },

    async deregister(service: ServiceRecord): Promise<void> {
      validateService(service, ID, "deregister");
      if (closed) throw closedError(`deregister service ${JSON.stringify(service.name)}`);
      const gone: NodeEntry[] = [];
      change(() => {
        for (const node of service.nodes) {
          const instance = instanceName(serviceType, service.name, service.version, node.id).toLowerCase();
          const entry = known.get(instance);
          if (entry && own.has(instance)) gone.push(entry);
          own.delete(instance);
          known.delete(instance);
        }
      });
      await announce(gone, true);
    },

    async getService(name: string): Promise<ServiceRecord[]> {
      if (closed) throw closedError(`look up service ${JSON.stringify(name)}`);
      await warmUp();
      return groupEntries([...view().values()].filter((e) => e.name === name));
    },

    async listServices(): Promise<ServiceRecord[]> {
      if (closed) throw closedError("list services");
      await warmUp();
      return groupEntries(view().values());
    },

    watch(watchOptions?: WatchOptions): Watcher {
      const feed = createWatcher(watchOptions, () => feeds.delete(feed));
      if (closed) feed.end();
      else {
        feeds.add(feed);
        // Others' nodes arrive as answers to the first query and as their announcements.
        warmUp().catch((error: unknown) => feed.end(error instanceof Error ? error : new Error(String(error))));
      }
      return feed.watcher;
    },

    async close(): Promise<void> {
      if (closed) return;
      const now = Date.now();
      const mine = [...own].map((i) => known.get(i)).filter((e): e is NodeEntry => e !== undefined && isLive(e, now));
      if (socket && mine.length > 0) await withTimeout(announce(mine, true), 2000, () => new Error("goodbye timed out")).catch((error: unknown) => log.warn({ err: error }, "mDNS goodbye on close not finished"));
      closed = true;
      clearTimeout(sweepTimer);
      clearInterval(announceTimer);
      sweepTimer = announceTimer = undefined;
      for (const feed of [...feeds]) feed.end();
      // A socket that failed to open has nothing to close: its failure was the error of the call that opened it.
      const s = await socket?.catch((err: unknown) => {
        log.debug({ err }, "mDNS socket that failed to open: nothing to close");
        return undefined;
      });
      socket = undefined;
      if (s) await new Promise<void>((resolve) => s.destroy(() => resolve()));
    },
  };
}
