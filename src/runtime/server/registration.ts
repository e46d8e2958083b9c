/**
 * What a server publishes in the registry: its node (address and metadata naming its plugins) and every
 * endpoint with its request and response fields, method kind and HTTP rules.
 */
import { networkInterfaces } from "node:os";
import type { Metadata } from "../metadata/index.js";
import type { MessageCodec } from "../codec/index.js";
import type { MethodDefinition, ValueRecord } from "../definition/index.js";
import type { EndpointRecord } from "../registry/index.js";
import { isWildcardHost, splitHostPort } from "../transport/address.js";

/** The wire protocol the server speaks (docs/protocol.md), published in node metadata (`http` is for HTTP backends). */
export const PROTOCOL = "micro";

function valueOf(codec: MessageCodec<unknown>): ValueRecord {
  const short = codec.typeName.slice(codec.typeName.lastIndexOf(".") + 1);
  return { name: short, type: codec.typeName, ...(codec.fields ? { values: codec.fields } : {}) };
}

/** The registry record of one endpoint. */
export function endpointRecord(endpoint: string, method: MethodDefinition, extra?: Metadata): EndpointRecord {
  const metadata: Metadata = { ...extra, stream: method.kind };
  if (method.http && method.http.length > 0) metadata.http = JSON.stringify(method.http);
  if (method.idempotency) metadata.idempotency = method.idempotency;
  if (method.deprecated) metadata.deprecated = "true";
  return { name: endpoint, request: valueOf(method.input), response: valueOf(method.output), metadata };
}

/**
 * The address other processes should use: `advertise` if given, else the bound address, with a wildcard
 * host (`0.0.0.0`, `::`, empty) replaced by this machine's first external IPv4 address (or 127.0.0.1).
 */
export function advertiseAddress(bound: string, advertise?: string): string {
  if (advertise) return advertise;
  const { host, port } = splitHostPort(bound);
  if (!isWildcardHost(host)) return bound;
  let ip = "127.0.0.1";
  outer: for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === "IPv4" && !a.internal) {
        ip = a.address;
        break outer;
      }
    }
  }
  return `${ip}:${port}`;
}
