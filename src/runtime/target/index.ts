/**
 * What a caller without generated types needs (the gateway and the `micro` command line): call targets
 * whose messages are plain JSON values or raw protobuf bytes, and an endpoint's method kind as its server
 * published it in the registry. The server decodes with the endpoint's real codec.
 */
import type { CallTarget } from "../client/index.js";
import type { MessageCodec } from "../codec/index.js";
import { rawJsonCodec } from "../codec/index.js";
import type { MethodKind } from "../definition/index.js";
import { MicroError } from "../errors/index.js";
import type { EndpointRecord, Registry } from "../registry/index.js";

/** Passes protobuf bytes through untouched; send with content type `application/protobuf`. */
export const rawBytesCodec: MessageCodec<Uint8Array> = {
  typeName: "bytes",
  encode: (message) => message,
  decode: (bytes) => bytes,
  fromJSON: () => {
    throw new TypeError("rawBytesCodec carries protobuf bytes only");
  },
  toJSON: () => {
    throw new TypeError("rawBytesCodec carries protobuf bytes only");
  },
};

/** A target whose messages are plain JSON values (call with content type `application/json`). */
export function jsonTarget(service: string, endpoint: string, kind: MethodKind = "unary"): CallTarget<unknown, unknown> {
  const dot = endpoint.lastIndexOf(".");
  return { service, endpoint, method: { name: endpoint.slice(dot + 1), kind, input: rawJsonCodec, output: rawJsonCodec } };
}

/** A target whose messages are protobuf bytes (call with content type `application/protobuf`). */
export function bytesTarget(service: string, endpoint: string, kind: MethodKind = "unary"): CallTarget<Uint8Array, Uint8Array> {
  const dot = endpoint.lastIndexOf(".");
  return { service, endpoint, method: { name: endpoint.slice(dot + 1), kind, input: rawBytesCodec, output: rawBytesCodec } };
}

const KINDS = new Set<MethodKind>(["unary", "server_streaming", "client_streaming", "bidi_streaming"]);

/** The method kind from an endpoint's `stream` metadata (`unary` when absent). */
export function endpointKind(ep: EndpointRecord): MethodKind {
  const s = ep.metadata?.stream;
  if (s && KINDS.has(s as MethodKind)) return s as MethodKind;
  // Go Micro publishes stream: "true" for any streaming endpoint.
  if (s === "true") return "bidi_streaming";
  return "unary";
}

/**
 * The kind of `service`'s `endpoint` as its server published it in the registry.
 * @throws MicroError 404 (id `errorId`) when the service is not registered (`notRegistered` says what to do)
 *   or has no such endpoint
 */
export async function lookupEndpointKind(registry: Pick<Registry, "getService">, service: string, endpoint: string, errorId: string, notRegistered: string): Promise<MethodKind> {
  const records = await registry.getService(service);
  if (records.length === 0) throw MicroError.notFound(errorId, `service ${service} is not registered: ${notRegistered}`);
  for (const rec of records) {
    const ep = rec.endpoints.find((e) => e.name === endpoint);
    if (ep) return endpointKind(ep);
  }
  throw MicroError.notFound(errorId, `service ${service} has no endpoint ${endpoint}; \`micro get service ${service}\` lists them`);
}
