/**
 * Registry bookkeeping shared by the implementations: a registry is kept as a flat set of node entries
 * (one per service × version × node id), grouped into {@link ServiceRecord}s on read and diffed into
 * {@link RegistryEvent}s on change.
 */
import type { Metadata } from "../metadata/index.js";
import { MicroError } from "../errors/index.js";
import type { EndpointRecord, NodeRecord, RegistryAction, RegistryEvent, ServiceRecord } from "./index.js";

/** One registered node with the service (at one version) it belongs to. */
export interface NodeEntry {
  readonly name: string;
  readonly version: string;
  readonly metadata?: Metadata;
  readonly endpoints: readonly EndpointRecord[];
  readonly node: NodeRecord;
  /** Epoch ms of the registration that wrote this entry (the newest entry's service data wins). */
  readonly updated: number;
  /** Epoch ms after which the entry is gone; absent: never expires. */
  readonly expires?: number;
}

/** The identity of an entry: service, version and node id. */
export function entryKey(name: string, version: string, nodeId: string): string {
  return JSON.stringify([name, version, nodeId]);
}

/** Split a service record into one entry per node. */
export function toEntries(service: ServiceRecord, updated: number, expires: number | undefined): NodeEntry[] {
  return service.nodes.map((node) => ({
    name: service.name,
    version: service.version,
    ...(service.metadata ? { metadata: { ...service.metadata } } : {}),
    endpoints: structuredClone(service.endpoints ?? []) as EndpointRecord[],
    node: { id: node.id, address: node.address, metadata: { ...(node.metadata ?? {}) } },
    updated,
    ...(expires !== undefined ? { expires } : {}),
  }));
}

export function isLive(entry: NodeEntry, now: number): boolean {
  return entry.expires === undefined || entry.expires > now;
}

/**
 * Group entries into one service record per name and version, nodes sorted by id so results are stable.
 * Service metadata and endpoints come from the most recent registration.
 */
export function groupEntries(entries: Iterable<NodeEntry>): ServiceRecord[] {
  const groups = new Map<string, NodeEntry[]>();
  for (const entry of entries) {
    const key = JSON.stringify([entry.name, entry.version]);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(entry);
  }
  const services: ServiceRecord[] = [];
  for (const list of groups.values()) services.push(serviceOf(list));
  services.sort((a, b) => compare(a.name, b.name) || compare(a.version, b.version));
  return services;
}

/** The service record of entries that share a name and version. */
function serviceOf(list: readonly NodeEntry[]): ServiceRecord {
  let newest = list[0];
  for (const entry of list) if (entry.updated > newest.updated) newest = entry;
  const nodes = list.map((e) => structuredClone(e.node) as NodeRecord).sort((a, b) => compare(a.id, b.id));
  return {
    name: newest.name,
    version: newest.version,
    ...(newest.metadata ? { metadata: { ...newest.metadata } } : {}),
    endpoints: structuredClone(newest.endpoints) as EndpointRecord[],
    nodes,
  };
}

/** What a watcher cares about in an entry: a heartbeat that only moves the expiry is no change. */
function fingerprint(entry: NodeEntry): string {
  return JSON.stringify([entry.node.address, entry.node.metadata, entry.metadata ?? null, entry.endpoints]);
}

/**
 * The events that turn the `before` entries into the `after` entries: one event per service version and
 * action, carrying the nodes concerned.
 */
export function diffEntries(before: ReadonlyMap<string, NodeEntry>, after: ReadonlyMap<string, NodeEntry>): RegistryEvent[] {
  const changes: Array<[RegistryAction, NodeEntry]> = [];
  for (const [key, entry] of after) {
    const old = before.get(key);
    if (!old) changes.push(["create", entry]);
    else if (fingerprint(old) !== fingerprint(entry)) changes.push(["update", entry]);
  }
  for (const [key, entry] of before) if (!after.has(key)) changes.push(["delete", entry]);
  return eventsOf(changes);
}

/** Group (action, entry) pairs into events, one per action and service version. */
export function eventsOf(changes: ReadonlyArray<readonly [RegistryAction, NodeEntry]>): RegistryEvent[] {
  const groups = new Map<string, { action: RegistryAction; entries: NodeEntry[] }>();
  for (const [action, entry] of changes) {
    const key = JSON.stringify([action, entry.name, entry.version]);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { action, entries: [] }));
    group.entries.push(entry);
  }
  return [...groups.values()].map(({ action, entries }) => ({ action, service: serviceOf(entries) }));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reject a record the registry cannot store (`register`: name, version, nodes with ids and addresses) or cannot
 * address (`deregister`: name, nodes with ids), saying what is wrong.
 * @throws MicroError (400, id `id`).
 */
export function validateService(service: ServiceRecord, id: string, action: "register" | "deregister" = "register"): void {
  const problem = (detail: string): Error => MicroError.badRequest(id, `cannot ${action} service ${JSON.stringify(service?.name)}: ${detail}`);
  if (!service || typeof service.name !== "string" || service.name === "") throw problem("the service needs a non-empty name");
  if (action === "register" && typeof service.version !== "string") throw problem("the service needs a version string (e.g. \"latest\")");
  if (!Array.isArray(service.nodes)) throw problem("the service needs a nodes array");
  for (const node of service.nodes) {
    if (!node || typeof node.id !== "string" || node.id === "") throw problem("every node needs a non-empty id");
    if (action === "register" && typeof node.address !== "string") throw problem(`node ${node.id} needs an address string`);
  }
}

/** Whether a stored value is string → string metadata (what a record's `metadata` must be). */
export function isStringMap(value: unknown): value is Metadata {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
}

/**
 * A node read back from storage (any registry's stored form): `id` and `address` strings, metadata a string map
 * (anything else becomes `{}`); `undefined` when it is not a node.
 */
export function readNode(value: unknown): NodeRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const n = value as { id?: unknown; address?: unknown; metadata?: unknown };
  if (typeof n.id !== "string" || typeof n.address !== "string") return undefined;
  return { id: n.id, address: n.address, metadata: isStringMap(n.metadata) ? n.metadata : {} };
}
