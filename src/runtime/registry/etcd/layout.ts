/**
 * How service records sit in etcd: one key per node, `<prefix><service>/<node-id>`, whose value is the JSON of
 * the service record carrying just that node (the layout Go Micro's etcd registry uses, so both can share a
 * cluster). A value decodes to the registry's node entries (records.ts), which group them back into records.
 */
import type { NodeRecord, ServiceRecord } from "../index.js";
import { isStringMap, readNode, toEntries, type NodeEntry } from "../records.js";

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

/**
 * The node entries of a stored value (`updated`: the key's modification revision, so the newest write's
 * service data wins when the nodes of one version disagree); `undefined` when the value is not a service
 * record (foreign or corrupt keys are skipped).
 */
export function decodeEntries(text: string, updated: number): NodeEntry[] | undefined {
  const record = decodeRecord(text);
  return record && toEntries(record, updated, undefined);
}

function decodeRecord(text: string): ServiceRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Partial<Record<keyof ServiceRecord, unknown>>;
  if (typeof v.name !== "string" || v.name === "") return undefined;
  const nodes = Array.isArray(v.nodes) ? v.nodes.map(readNode).filter((n): n is NodeRecord => n !== undefined) : [];
  return {
    name: v.name,
    version: typeof v.version === "string" ? v.version : "",
    metadata: isStringMap(v.metadata) ? v.metadata : {},
    endpoints: Array.isArray(v.endpoints) ? (v.endpoints as ServiceRecord["endpoints"]) : [],
    nodes,
  };
}
