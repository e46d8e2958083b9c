/**
 * What a server publishes in the registry: its node (address and metadata naming its plugins) and every
 * endpoint with its request and response fields, method kind and HTTP rules.
 */
import type { Metadata } from "../metadata/index.js";
import type { MessageCodec } from "../codec/index.js";
import type { MethodDefinition, ValueRecord } from "../definition/index.js";
import type { EndpointRecord } from "../registry/index.js";

/** The wire protocol the server speaks (docs/protocol.md), published in node metadata (`http` is for HTTP backends). */
export const PROTOCOL = "micro";

/** The protocol a node on the grpc transport publishes, as Go Micro's grpc server does. */
export const GRPC_PROTOCOL = "grpc";

/**
 * Node metadata for the transport: `protocol` (`micro`, or `grpc` on the grpc transport) and, on grpc, the
 * full gRPC service names it serves (`grpc_services`, comma-separated) so dynamic callers can build
 * `/<package>.<Service>/<Method>` from the endpoint name `Service.Method`.
 */
export function transportMetadata(transport: string, fullNames: Iterable<string>): Metadata {
  if (transport !== "grpc") return { protocol: PROTOCOL };
  return { protocol: GRPC_PROTOCOL, grpc_services: [...new Set(fullNames)].join(",") };
}

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

