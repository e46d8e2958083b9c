/**
 * How service records sit in etcd: one key per node, `<prefix><service>/<node-id>`, whose value is the JSON of
 * the service record carrying just that node (the layout Go Micro's etcd registry uses, so both can share a
 * cluster). Reading merges the per-node records back into one record per version.
 */
import type { NodeRecord, ServiceRecord } from "../index.js";

/** A key segment: `/` would add a level to the key space, so it becomes `-` (as Go Micro does). */
export function keySegment(value: string): string {
  return value.replaceAll("/", "-");
}

/** The key prefix under which every node of `service` lives (ends in `/`). */
export function servicePrefix(prefix: string, service: string): string {
  return `${prefix}${keySegment(service)}/`;
}

/** The key of one node of `service`. */
export function nodeKey(prefix: string, service: string, nodeId: string): string {
  return `${servicePrefix(prefix, service)}${keySegment(nodeId)}`;
}

/** The JSON stored for one node: the service record with only that node. */
export function encodeNode(service: ServiceRecord, node: NodeRecord): string {
  return JSON.stringify({
    name: service.name,
    version: service.version,
    metadata: service.metadata ?? {},
    endpoints: service.endpoints,
    nodes: [node],
  });
}

/** Parse a stored value; `undefined` when it is not a service record (foreign or corrupt keys are skipped). */
export function decodeRecord(text: string): ServiceRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Partial<Record<keyof ServiceRecord, unknown>>;
  if (typeof v.name !== "string" || v.name === "") return undefined;
  const nodes = Array.isArray(v.nodes)
    ? v.nodes.filter((n): n is NodeRecord => typeof n === "object" && n !== null && typeof n.id === "string" && typeof n.address === "string")
        .map((n) => ({ id: n.id, address: n.address, metadata: isStringMap(n.metadata) ? n.metadata : {} }))
    : [];
  return {
    name: v.name,
    version: typeof v.version === "string" ? v.version : "",
    metadata: isStringMap(v.metadata) ? v.metadata : {},
    endpoints: Array.isArray(v.endpoints) ? (v.endpoints as ServiceRecord["endpoints"]) : [],
    nodes,
  };
}

/**
 * Merge per-node records into one record per name and version, in first-seen order; the nodes of each
 * version are concatenated (a node id seen twice is kept once).
 */
export function mergeRecords(records: Iterable<ServiceRecord>): ServiceRecord[] {
  const merged = new Map<string, { record: ServiceRecord; nodes: Map<string, NodeRecord> }>();
  for (const record of records) {
    const id = `${record.name}\u0000${record.version}`;
    let entry = merged.get(id);
    if (!entry) {
      entry = { record, nodes: new Map() };
      merged.set(id, entry);
    }
    for (const node of record.nodes) if (!entry.nodes.has(node.id)) entry.nodes.set(node.id, node);
  }
  return [...merged.values()].map(({ record, nodes }) => ({ ...record, nodes: [...nodes.values()] }));
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((x) => typeof x === "string");
}
