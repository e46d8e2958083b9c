/**
 * The etcd registry (Go Micro's `registry/etcd`), on the `etcd3` client. Each node is one key,
 * `/micro/registry/<service>/<node-id>`, bound to a lease of the register TTL. Every `register` call (the
 * service repeats it on its register interval) refreshes the lease once; a lease etcd no longer knows is
 * granted again and the key rewritten, so registration heals by itself after etcd loses state or returns from
 * an outage. Every call is bounded by a timeout and fails with a `MicroError` (503) while etcd is unreachable,
 * so callers can fall back to cached records rather than hang. `watch` follows etcd's watch on the prefix and
 * reconnects on its own, resuming from the last revision seen; a register or deregister right after `watch`
 * waits (at most the call timeout) for that watch to be established, so the watch reports it.
 */
import {
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  GRPCUnauthenticatedError,
  type IKeyValue,
  type Lease,
} from "etcd3";
import { ExponentialBackoff, noop } from "cockatiel";
import { MicroError } from "../../errors/index.js";
import { settleWithin, withTimeout } from "../../internal/timeout.js";
import { logger } from "../../logger/index.js";
import type { RegisterOptions, Registry, ServiceRecord, WatchOptions, Watcher } from "../index.js";
import { diffEntries, entryKey, groupEntries, validateService, type NodeEntry } from "../records.js";
import { createWatcher, type WatcherFeed } from "../watcher.js";
import { decodeEntries, encodeNode, nodeKey, servicePrefix } from "./layout.js";
import { ID, resolveOptions, type Options } from "./options.js";

export type { Options as EtcdRegistryOptions, PemSource } from "./options.js";

type WatchBackoff = NonNullable<NonNullable<ConstructorParameters<typeof Etcd3>[0]>["faultHandling"]>["watchBackoff"];

/** The lease that keeps one node key alive. */
interface NodeLease {
  lease: Lease;
  ttl: number;
  /** The value last written under the key, to skip rewriting it when unchanged. */
  value: string;
}

/**
 * Create an etcd registry. No connection is made until the first call.
 *
 * ```ts
 * const service = newService({ name: "greeter", registry: etcdRegistry({ address: "10.0.0.1:2379,10.0.0.2:2379" }) });
 * ```
 * @throws MicroError (400, `micro.registry.etcd`) for bad options.
 */
export function etcdRegistry(options?: Options): Registry {
  const resolved = resolveOptions(options);
  const { prefix, timeout, address } = resolved;
  const client = new Etcd3({
    hosts: resolved.hosts,
    auth: resolved.auth,
    credentials: resolved.credentials,
    dialTimeout: resolved.dialTimeout,
    // Unary calls get a deadline; streams (watch, keepalive) are bounded where they are used.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    faultHandling: {
      // No client-side retries or circuit breaker: one bounded attempt per call. The service repeats
      // registration on its interval and the caching layer serves stale records, so a fast, plain
      // failure is what the callers want; a breaker would also delay recovery after etcd returns.
      host: () => noop,
      global: noop,
      // Watch streams reconnect quickly after an outage (jittered exponential backoff, capped at 2 s).
      // (etcd3 calls `.next()` on this first, so it takes the factory, though its typings say otherwise.)
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }) as unknown as WatchBackoff,
    },
  });
  const leases = new Map<string, NodeLease>();
  const feeds = new Set<WatcherFeed>();
  /** Watches not yet established by etcd: a change made now would not reach them. */
  const connecting = new Set<Promise<void>>();
  const log = logger("registry", { registry: "etcd" });
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new MicroError(ID, 503, "the etcd registry is closed");
  };

  /** Let the watches opened just before a change see it (bounded: a watch that cannot connect reconnects later). */
  const watchesReady = async (): Promise<void> => {
    if (connecting.size > 0) await settleWithin(Promise.all(connecting), timeout);
  };

  /**
   * Run one etcd operation with a hard timeout (on top of the gRPC deadline: connecting is not always
   * covered by it), mapping failures to MicroErrors that say what to check.
   */
  const call = async <T>(what: string, subject: string, operation: () => Promise<T>): Promise<T> => {
    const expired = (): Error =>
      new MicroError(ID, 503, `etcd did not answer within ${timeout} ms (${what} ${subject || "services"}) at ${address}; is etcd running and reachable? Set --registry_address or MICRO_REGISTRY_ADDRESS.`);
    try {
      return await withTimeout(operation(), timeout, expired);
    } catch (error) {
      throw describe(error, `${what} ${subject || "services"}`);
    }
  };

  const describe = (error: unknown, target: string): MicroError => {
    if (error instanceof MicroError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (
      error instanceof GRPCUnauthenticatedError ||
      error instanceof EtcdAuthenticationFailedError ||
      error instanceof EtcdInvalidAuthTokenError ||
      // An etcd with authentication on answers an anonymous request this way.
      /user name is empty/i.test(message)
    ) {
      return new MicroError(ID, 401, `etcd rejected the credentials (${target}): ${message}. Check MICRO_REGISTRY_USERNAME / MICRO_REGISTRY_PASSWORD.`, undefined, { cause: error });
    }
    if (error instanceof EtcdPermissionDeniedError) {
      return new MicroError(ID, 403, `etcd denied ${target}: ${message}. Grant the etcd user read/write on ${prefix}.`, undefined, { cause: error });
    }
    return new MicroError(
      ID,
      503,
      `etcd registry could not ${target} at ${address}: ${message}. Is etcd running and reachable there? Start it, or point --registry_address / MICRO_REGISTRY_ADDRESS at it.`,
      undefined,
      { cause: error },
    );
  };

  /** The entries stored under some keys; keys that hold no service record are skipped with a warning. */
  const decodeAll = (kvs: readonly IKeyValue[]): NodeEntry[] => {
    const entries: NodeEntry[] = [];
    for (const kv of kvs) {
      const decoded = decodeEntries(kv.value.toString(), Number(kv.mod_revision));
      if (decoded) entries.push(...decoded);
      else log.warn({ key: kv.key.toString() }, "skipping an etcd key that does not hold a service record");
    }
    return entries;
  };

  /** The entries of one key's value, by identity (for diffing a watch event). */
  const entriesOf = (kv: IKeyValue | undefined): Map<string, NodeEntry> =>
    new Map((kv ? decodeEntries(kv.value.toString(), Number(kv.mod_revision)) ?? [] : []).map((e) => [entryKey(e.name, e.version, e.node.id), e]));

  /** Write one node key, refreshing or re-granting its lease. */
  const registerNode = async (key: string, value: string, ttl: number): Promise<void> => {
    const held = leases.get(key);
    if (ttl === 0) {
      // No TTL: the key lives until deregistered (as in Go Micro).
      if (held) {
        leases.delete(key);
        held.lease.release();
      }
      await call("register", key, () => client.put(key).value(value).exec());
      return;
    }
    if (held && held.ttl === ttl && !held.lease.revoked()) {
      try {
        await call("refresh the lease of", key, () => held.lease.keepaliveOnce({ deadline: Date.now() + timeout }));
        if (held.value !== value) {
          await call("register", key, () => held.lease.put(key).value(value).exec());
          held.value = value;
        }
        return;
      } catch (error) {
        // etcd forgot the lease (expired while we could not reach it): grant a new one below.
        if (!(error instanceof MicroError && error.cause instanceof EtcdLeaseInvalidError)) throw error;
        log.info({ key }, "etcd lease lost; registering again");
      }
    }
    leases.delete(key);
    held?.lease.release();
    const lease = client.lease(ttl, { autoKeepAlive: false });
    // 'lost' is reported through the rejected calls below; keep the emitter from warning.
    lease.on("lost", () => {});
    try {
      await call("grant a lease for", key, () => lease.grant());
      await call("register", key, () => lease.put(key).value(value).exec());
    } catch (error) {
      lease.release();
      throw error;
    }
    leases.set(key, { lease, ttl, value });
  };

  return {
    name: "etcd",

    async register(service: ServiceRecord, registerOptions: RegisterOptions = {}): Promise<void> {
      assertOpen();
      validateService(service, ID);
      if (service.nodes.length === 0) throw MicroError.badRequest(ID, `cannot register service "${service.name}" without nodes`);
      const ttl = Math.max(0, Math.ceil(registerOptions.ttl ?? 0));
      await watchesReady();
      for (const node of service.nodes) {
        await registerNode(nodeKey(prefix, service.name, node.id), encodeNode(service, node), ttl);
      }
    },

    async deregister(service: ServiceRecord): Promise<void> {
      assertOpen();
      validateService(service, ID, "deregister");
      await watchesReady();
      for (const node of service.nodes) {
        const key = nodeKey(prefix, service.name, node.id);
        const held = leases.get(key);
        leases.delete(key);
        held?.lease.release();
        await call("deregister", service.name, () => client.delete().key(key).exec());
        // The key is gone; dropping the lease too spares etcd the bookkeeping. Best effort.
        if (held) held.lease.revoke({ deadline: Date.now() + timeout }).catch(() => {});
      }
    },

    async getService(name: string): Promise<ServiceRecord[]> {
      assertOpen();
      const { kvs } = await call("get", name, () => client.getAll().prefix(servicePrefix(prefix, name)).exec());
      // Another service's name may share the key segment (`a/b` and `a-b`): keep only this one's.
      return groupEntries(decodeAll(kvs).filter((entry) => entry.name === name));
    },

    async listServices(): Promise<ServiceRecord[]> {
      assertOpen();
      const { kvs } = await call("list", "", () => client.getAll().prefix(prefix).exec());
      return groupEntries(decodeAll(kvs));
    },

    watch(watchOptions: WatchOptions = {}): Watcher {
      assertOpen();
      const keys = watchOptions.service !== undefined ? servicePrefix(prefix, watchOptions.service) : prefix;
      const etcdWatcher = client.watch().prefix(keys).withPreviousKV().watcher();
      let established!: () => void;
      const connected = new Promise<void>((resolve) => (established = resolve));
      connecting.add(connected);
      void connected.then(() => connecting.delete(connected));
      const feed = createWatcher(watchOptions, () => {
        feeds.delete(feed);
        established();
        etcdWatcher.cancel().catch(() => {});
      });
      feeds.add(feed);

      /** Report the change of one key as the registry's events (a rewrite of the same record is none). */
      const report = (before: IKeyValue | undefined, after: IKeyValue | undefined): void => {
        for (const event of diffEntries(entriesOf(before), entriesOf(after))) feed.push(event);
      };
      etcdWatcher.on("put", (kv, previous) => report(previous, kv));
      etcdWatcher.on("delete", (kv, previous) => report(previous ?? kv, undefined));
      etcdWatcher.on("disconnected", (error) => log.warn({ err: error.message }, "etcd watch disconnected; reconnecting"));
      etcdWatcher.on("connected", () => {
        established();
        log.debug("etcd watch connected");
      });
      // An 'error' event without a listener would crash the process; the watch manager reconnects anyway.
      etcdWatcher.on("error", (error) => log.warn({ err: error.message }, "etcd watch error"));
      etcdWatcher.on("end", () => feed.end());
      return feed.watcher;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const feed of [...feeds]) feed.end();
      for (const { lease } of leases.values()) lease.release();
      leases.clear();
      client.close();
    },
  };
}
