/**
 * The etcd registry (Go Micro's `registry/etcd`), on the `etcd3` client. Each node is one key,
 * `/micro/registry/<service>/<node-id>`, bound to a lease of the register TTL. Every `register` call (the
 * service repeats it on its register interval) refreshes the lease once; a lease etcd no longer knows is
 * granted again and the key rewritten, so registration heals by itself after etcd loses state or returns from
 * an outage. Every call is bounded by a timeout and fails with a `MicroError` (503) while etcd is unreachable,
 * so callers can fall back to cached records rather than hang. `watch` follows etcd's watch on the prefix and
 * reconnects on its own, resuming from the last revision seen.
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
import { withTimeout } from "../../internal/timeout.js";
import { logger } from "../../logger/index.js";
import type { RegisterOptions, Registry, RegistryEvent, ServiceRecord, WatchOptions, Watcher } from "../index.js";
import { EventQueue } from "./event-queue.js";
import { resolveOptions, type EtcdRegistryOptions, type ResolvedEtcdOptions } from "./options.js";
import { decodeRecord, encodeNode, mergeRecords, nodeKey, servicePrefix } from "./records.js";

export type { EtcdRegistryOptions, PemSource } from "./options.js";

const ID = "registry.etcd";

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
 */
export function etcdRegistry(options?: EtcdRegistryOptions): Registry {
  return new EtcdRegistry(resolveOptions(options));
}

class EtcdRegistry implements Registry {
  readonly name = "etcd";
  private readonly client: Etcd3;
  private readonly leases = new Map<string, NodeLease>();
  private readonly watchers = new Set<Watcher>();
  private readonly log = logger("registry", { registry: "etcd" });
  private closed = false;

  constructor(private readonly options: ResolvedEtcdOptions) {
    this.client = new Etcd3({
      hosts: options.hosts,
      auth: options.auth,
      credentials: options.credentials,
      dialTimeout: options.dialTimeout,
      // Unary calls get a deadline; streams (watch, keepalive) are bounded where they are used.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + options.timeout }),
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
  }

  async register(service: ServiceRecord, options: RegisterOptions = {}): Promise<void> {
    this.assertOpen();
    assertService(service, "register");
    if (service.nodes.length === 0) throw MicroError.badRequest(ID, `cannot register service "${service.name}" without nodes`);
    const ttl = Math.max(0, Math.ceil(options.ttl ?? 0));
    for (const node of service.nodes) {
      await this.registerNode(nodeKey(this.options.prefix, service.name, node.id), encodeNode(service, node), ttl);
    }
  }

  async deregister(service: ServiceRecord): Promise<void> {
    this.assertOpen();
    assertService(service, "deregister");
    for (const node of service.nodes) {
      const key = nodeKey(this.options.prefix, service.name, node.id);
      const held = this.leases.get(key);
      this.leases.delete(key);
      held?.lease.release();
      await this.call("deregister", service.name, () => this.client.delete().key(key).exec());
      // The key is gone; dropping the lease too spares etcd the bookkeeping. Best effort.
      if (held) held.lease.revoke({ deadline: Date.now() + this.options.timeout }).catch(() => {});
    }
  }

  async getService(name: string): Promise<ServiceRecord[]> {
    this.assertOpen();
    const values = await this.call("get", name, () => this.client.getAll().prefix(servicePrefix(this.options.prefix, name)).strings());
    return mergeRecords(this.decodeAll(values)).filter((record) => record.name === name);
  }

  async listServices(): Promise<ServiceRecord[]> {
    this.assertOpen();
    const values = await this.call("list", "", () => this.client.getAll().prefix(this.options.prefix).strings());
    return mergeRecords(this.decodeAll(values));
  }

  watch(options: WatchOptions = {}): Watcher {
    this.assertOpen();
    const prefix = options.service !== undefined ? servicePrefix(this.options.prefix, options.service) : this.options.prefix;
    const etcdWatcher = this.client.watch().prefix(prefix).withPreviousKV().watcher();
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      this.watchers.delete(watcher);
      options.signal?.removeEventListener("abort", stop);
      queue.end();
      etcdWatcher.cancel().catch(() => {});
    };
    const queue = new EventQueue<RegistryEvent>(stop);
    const watcher: Watcher = { stop, [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator]() };

    const emit = (action: RegistryEvent["action"], kv: IKeyValue | undefined) => {
      const record = kv ? decodeRecord(kv.value.toString()) : undefined;
      if (!record) return;
      if (options.service !== undefined && record.name !== options.service) return;
      queue.push({ action, service: record });
    };
    etcdWatcher.on("put", (kv, previous) => emit(previous ? "update" : "create", kv));
    etcdWatcher.on("delete", (kv, previous) => emit("delete", previous ?? kv));
    etcdWatcher.on("disconnected", (error) => this.log.warn({ err: error.message }, "etcd watch disconnected; reconnecting"));
    etcdWatcher.on("connected", () => this.log.debug("etcd watch connected"));
    // An 'error' event without a listener would crash the process; the watch manager reconnects anyway.
    etcdWatcher.on("error", (error) => this.log.warn({ err: error.message }, "etcd watch error"));
    etcdWatcher.on("end", () => queue.end());

    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener("abort", stop, { once: true });
    if (!stopped) this.watchers.add(watcher);
    return watcher;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of [...this.watchers]) watcher.stop();
    for (const { lease } of this.leases.values()) lease.release();
    this.leases.clear();
    this.client.close();
  }

  /** Write one node key, refreshing or re-granting its lease. */
  private async registerNode(key: string, value: string, ttl: number): Promise<void> {
    const held = this.leases.get(key);
    if (ttl === 0) {
      // No TTL: the key lives until deregistered (as in Go Micro).
      if (held) {
        this.leases.delete(key);
        held.lease.release();
      }
      await this.call("register", key, () => this.client.put(key).value(value).exec());
      return;
    }
    if (held && held.ttl === ttl && !held.lease.revoked()) {
      try {
        await this.call("refresh the lease of", key, () => held.lease.keepaliveOnce({ deadline: Date.now() + this.options.timeout }));
        if (held.value !== value) {
          await this.call("register", key, () => held.lease.put(key).value(value).exec());
          held.value = value;
        }
        return;
      } catch (error) {
        // etcd forgot the lease (expired while we could not reach it): grant a new one below.
        if (!(error instanceof MicroError && error.cause instanceof EtcdLeaseInvalidError)) throw error;
        this.log.info({ key }, "etcd lease lost; registering again");
      }
    }
    this.leases.delete(key);
    held?.lease.release();
    const lease = this.client.lease(ttl, { autoKeepAlive: false });
    // 'lost' is reported through the rejected calls below; keep the emitter from warning.
    lease.on("lost", () => {});
    try {
      await this.call("grant a lease for", key, () => lease.grant());
      await this.call("register", key, () => lease.put(key).value(value).exec());
    } catch (error) {
      lease.release();
      throw error;
    }
    this.leases.set(key, { lease, ttl, value });
  }

  private decodeAll(values: Record<string, string>): ServiceRecord[] {
    const records: ServiceRecord[] = [];
    for (const [key, text] of Object.entries(values)) {
      const record = decodeRecord(text);
      if (record) records.push(record);
      else this.log.warn({ key }, "skipping an etcd key that does not hold a service record");
    }
    return records;
  }

  /**
   * Run one etcd operation with a hard timeout (on top of the gRPC deadline: connecting is not always
   * covered by it), mapping failures to MicroErrors that say what to check.
   */
  private async call<T>(what: string, subject: string, operation: () => Promise<T>): Promise<T> {
    const expired = (): Error =>
      new MicroError(ID, 503, `etcd did not answer within ${this.options.timeout} ms (${what} ${subject || "services"}) at ${this.options.address}; is etcd running and reachable? Set --registry_address or MICRO_REGISTRY_ADDRESS.`);
    try {
      return await withTimeout(operation(), this.options.timeout, expired);
    } catch (error) {
      throw this.describe(error, what, subject);
    }
  }


  private describe(error: unknown, what: string, subject: string): MicroError {
    if (error instanceof MicroError) return error;
    const message = error instanceof Error ? error.message : String(error);
    const target = `${what} ${subject || "services"}`;
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
      return new MicroError(ID, 403, `etcd denied ${target}: ${message}. Grant the etcd user read/write on ${this.options.prefix}.`, undefined, { cause: error });
    }
    return new MicroError(
      ID,
      503,
      `etcd registry could not ${target} at ${this.options.address}: ${message}. Is etcd running and reachable there? Start it, or point --registry_address / MICRO_REGISTRY_ADDRESS at it.`,
      undefined,
      { cause: error },
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new MicroError(ID, 503, "the etcd registry is closed");
  }
}

function assertService(service: ServiceRecord, what: string): void {
  if (!service || typeof service.name !== "string" || service.name === "") {
    throw MicroError.badRequest(ID, `cannot ${what} a service without a name`);
  }
  if (!Array.isArray(service.nodes)) throw MicroError.badRequest(ID, `cannot ${what} service "${service.name}": nodes must be an array`);
}
