/**
 * Service discovery (Go Micro's `registry`): the interface every implementation returns. Implementations live
 * in folders beside this file — `memory/`, `local/` (zero-config, cross-process, no daemon), `etcd/`, `mdns/` (zero-config across one network) — and
 * share `records.ts` (checks, grouping, diffing) and `watcher.ts` (the watch queue). README.md says how to
 * add one.
 */
import type { ValueRecord } from "../definition/index.js";
import type { Metadata } from "../metadata/index.js";

/** One running instance of a service. */
export interface NodeRecord {
  readonly id: string;
  /** `host:port` the transport listens on. */
  readonly address: string;
  /** Includes `transport`, `broker`, `registry`, `protocol`, `server`. */
  readonly metadata: Metadata;
}

/** One endpoint as published by a server. */
export interface EndpointRecord {
  /** `Greeter.Hello`. */
  readonly name: string;
  readonly request?: ValueRecord;
  readonly response?: ValueRecord;
  /** Includes `stream` (method kind) and `http` (JSON of the method's HttpRule list) where present. */
  readonly metadata: Metadata;
}

/** A service at one version with its nodes (Go Micro's `registry.Service`). */
export interface ServiceRecord {
  readonly name: string;
  readonly version: string;
  readonly metadata?: Metadata;
  readonly endpoints: readonly EndpointRecord[];
  readonly nodes: readonly NodeRecord[];
}

export interface RegisterOptions {
  /** Seconds after which the nodes expire unless registered again. */
  ttl?: number;
}

export type RegistryAction = "create" | "update" | "delete";

export interface RegistryEvent {
  readonly action: RegistryAction;
  /** The service with the nodes the event is about. */
  readonly service: ServiceRecord;
  /**
   * On a `delete`: the nodes were not deregistered by their owner nor expired — the registry's storage lost
   * them (the local registry's directory was removed or replaced, or their files turned to garbage) and their
   * owners are expected to write them again at once. A cache keeps serving such nodes for a short grace
   * period (`cache.ts`, `vanishGrace`) instead of dropping them. Absent on every other event.
   */
  readonly vanished?: boolean;
}

export interface WatchOptions {
  /** Only events of this service. */
  service?: string;
  /** Stops the watch. */
  signal?: AbortSignal;
}

/** A stream of registry changes; ends when stopped or aborted. */
export interface Watcher extends AsyncIterable<RegistryEvent> {
  stop(): void;
}

export interface Registry {
  /** The plugin name: `memory`, `local`, `etcd`, `mdns`. */
  readonly name: string;
  /** Add or refresh the nodes of `service` (merged with nodes already registered by others). */
  register(service: ServiceRecord, options?: RegisterOptions): Promise<void>;
  /** Remove the nodes of `service`. */
  deregister(service: ServiceRecord): Promise<void>;
  /** Every version of a service, each with its live nodes; `[]` when none is registered. */
  getService(name: string): Promise<ServiceRecord[]>;
  /** Every registered service (nodes may be omitted). */
  listServices(): Promise<ServiceRecord[]>;
  watch(options?: WatchOptions): Watcher;
  /** Release resources (timers, connections, files). */
  close(): Promise<void>;
}
