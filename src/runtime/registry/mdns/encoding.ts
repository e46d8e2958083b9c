/**
 * How a node's record travels in mDNS: one instance name per service × version × node
 * (`<hash>.<_domain._tcp.local>`: a label that any id fits in) whose TXT record carries the whole entry —
 * service name, version, metadata, endpoints, node — as deflated JSON split into TXT strings of at most 255
 * bytes (after a `micro=1` marker), as Go Micro splits its encoded service across TXT strings. A service with
 * hundreds of endpoints stays one record; a record too large for one UDP datagram is refused on register.
 */
import { createHash } from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { MicroError } from "../../errors/index.js";
import type { EndpointRecord } from "../index.js";
import { isStringMap, readNode, type NodeEntry } from "../records.js";
import { ID } from "./options.js";

const MARKER = "micro=1";
const CHUNK = 255;
/** What one TXT record may carry: a datagram's 65 507 bytes less the names and headers around it. */
export const MAX_RECORD_BYTES = 60_000;
/** The most a received record may inflate to (a hostile peer's deflate bomb is dropped). */
const MAX_INFLATED_BYTES = 8 * 1024 * 1024;

/** The instance name of a node of a service version, under `serviceType`. */
export function instanceName(serviceType: string, name: string, version: string, nodeId: string): string {
  const label = createHash("sha256").update(JSON.stringify([name, version, nodeId])).digest("hex").slice(0, 40);
  return `${label}.${serviceType}`;
}

/** The TXT strings of an entry. @throws MicroError (400) when it is too large for mDNS. */
export function encodeEntry(entry: NodeEntry): Buffer[] {
  const json = JSON.stringify({ name: entry.name, version: entry.version, metadata: entry.metadata, endpoints: entry.endpoints, node: entry.node, updated: entry.updated });
  const packed = deflateRawSync(json);
  if (packed.length > MAX_RECORD_BYTES) {
    throw MicroError.badRequest(ID, `cannot register service ${JSON.stringify(entry.name)}: its record is ${packed.length} bytes compressed, over the ${MAX_RECORD_BYTES} bytes one mDNS packet carries; use etcd for services this large`);
  }
  const chunks = [Buffer.from(MARKER)];
  for (let at = 0; at < packed.length; at += CHUNK) chunks.push(packed.subarray(at, at + CHUNK));
  return chunks;
}

/** The entry (without expiry) a TXT record carries, or `undefined` when it is not one of ours or is damaged. */
export function decodeEntry(data: unknown): Omit<NodeEntry, "expires"> | undefined {
  const chunks = (Array.isArray(data) ? data : [data]).map((c) => (Buffer.isBuffer(c) ? c : typeof c === "string" ? Buffer.from(c) : undefined));
  if (chunks.length < 2 || chunks.some((c) => c === undefined) || chunks[0]!.toString() !== MARKER) return undefined;
  let value: unknown;
  try {
    // Bounded: a peer's record cannot make this process inflate more than MAX_INFLATED_BYTES.
    value = JSON.parse(inflateRawSync(Buffer.concat(chunks.slice(1) as Buffer[]), { maxOutputLength: MAX_INFLATED_BYTES }).toString("utf8"));
  } catch {
    return undefined; // not ours, truncated or oversized: ignored like any foreign record
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as { name?: unknown; version?: unknown; metadata?: unknown; endpoints?: unknown; node?: unknown; updated?: unknown };
  const node = readNode(v.node);
  if (typeof v.name !== "string" || typeof v.version !== "string" || !node || !Array.isArray(v.endpoints)) return undefined;
  return {
    name: v.name,
    version: v.version,
    ...(isStringMap(v.metadata) ? { metadata: v.metadata } : {}),
    endpoints: v.endpoints as EndpointRecord[],
    node,
    updated: typeof v.updated === "number" ? v.updated : Date.now(),
  };
}
