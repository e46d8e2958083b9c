/**
 * What a gRPC call's HTTP/2 headers mean to micro: the path ↔ endpoint naming, content types, and custom
 * metadata ↔ headers. Keys are lowercase on HTTP/2; `-bin` values travel base64 and micro metadata holds
 * that base64 text unchanged (lossless both ways).
 */
import type { Metadata } from "../../metadata/index.js";
import { MicroError } from "../../errors/index.js";
import { TRANSPORT_ERROR_ID } from "../index.js";

/** micro's content types (the codec's names; the transport does not import the codec). */
const PROTOBUF_CONTENT_TYPE = "application/protobuf";
const JSON_CONTENT_TYPE = "application/json";

/** Headers that are gRPC's or HTTP/2's own and never micro metadata. */
const RESERVED = new Set(["content-type", "te", "user-agent", "content-length", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "accept-encoding", "date"]);

/** Whether a header is protocol, not metadata: pseudo-headers, the reserved set, `grpc-*`, `micro-error` and `micro-keys`. */
export function isReserved(key: string): boolean {
  return key.charCodeAt(0) === 58 /* : */ || key.startsWith("grpc-") || key === "micro-error" || key === KEYS || RESERVED.has(key);
}

/**
 * HTTP/2 header names are lowercase and some are the protocol's own, but micro metadata keys keep their case
 * (`Content-Type`, `Micro-Topic` in a broker message). A key that is not lowercase is listed with its
 * spelling in `micro-keys`, and a key that collides with a reserved header travels as `micro-md-<key>`;
 * a micro-ts peer restores both, a foreign peer sees lowercase keys.
 */
const KEYS = "micro-keys";
const PREFIX = "micro-md-";

const NAME = /^[0-9a-z_.-]+$/;
const VALUE = /^[\x20-\x7e]*$/;

/**
 * Add `metadata` to `out` as headers. A key or value HTTP/2 cannot carry (non-ASCII, line breaks) is a 400
 * naming it: metadata is never silently changed or dropped.
 */
export function metadataToHeaders(metadata: Metadata, out: Record<string, string>): void {
  let spelled: string | undefined;
  for (const key in metadata) {
    const value = metadata[key]!;
    let k = key.toLowerCase();
    if (!NAME.test(k)) throw new MicroError(TRANSPORT_ERROR_ID, 400, `metadata key ${JSON.stringify(key)} cannot be a gRPC header (use letters, digits, _ . -)`);
    if (!VALUE.test(value)) {
      throw new MicroError(TRANSPORT_ERROR_ID, 400, `metadata ${JSON.stringify(key)} has a value gRPC headers cannot carry (printable ASCII only; binary goes in a "-bin" key, base64)`);
    }
    if (isReserved(k)) k = PREFIX + k;
    if (k !== key) spelled = spelled === undefined ? key : `${spelled},${key}`;
    out[k] = value;
  }
  if (spelled !== undefined) out[KEYS] = spelled;
}

/** The custom metadata among received headers (arrays, which HTTP/2 repeats, joined with ", "), keys as the sender spelled them. */
export function headersToMetadata(headers: Record<string, string | string[] | undefined>, into: Metadata = {}): Metadata {
  for (const key in headers) {
    if (isReserved(key)) continue;
    const v = headers[key];
    if (v === undefined) continue;
    into[key] = typeof v === "string" ? v : v.join(", ");
  }
  const spelled = headers[KEYS];
  if (typeof spelled === "string") {
    for (const original of spelled.split(",")) {
      const lower = original.toLowerCase();
      const wire = isReserved(lower) ? PREFIX + lower : lower;
      const v = into[wire];
      if (v === undefined || wire === original) continue;
      delete into[wire];
      into[original] = v;
    }
  }
  return into;
}

/** What a gRPC path names: the full service (`greeter.v1.Greeter`), its package and the micro endpoint (`Greeter.Hello`). */
export interface PathParts {
  readonly fullService: string;
  /** The package (`greeter.v1`), empty for an unpackaged service. */
  readonly pkg: string;
  readonly endpoint: string;
}

/** Split `/<package>.<Service>/<Method>`; undefined when the path is not of that shape. */
export function parsePath(path: string): PathParts | undefined {
  const slash = path.indexOf("/", 1);
  if (path.charCodeAt(0) !== 47 || slash < 2 || slash === path.length - 1 || path.indexOf("/", slash + 1) >= 0) return undefined;
  const fullService = path.slice(1, slash);
  const method = path.slice(slash + 1);
  const dot = fullService.lastIndexOf(".");
  return { fullService, pkg: dot < 0 ? "" : fullService.slice(0, dot), endpoint: `${fullService.slice(dot + 1)}.${method}` };
}

/**
 * The gRPC path of a call to `endpoint` (`Greeter.Hello`) of the micro service `service`: the full service
 * name from `fullServices` (the node's published `grpc_services`) whose last part is the endpoint's service,
 * else Go Micro's rule `/<service>.<Service>/<Method>` (which a micro-ts or Go Micro grpc server accepts).
 */
export function grpcPath(service: string, endpoint: string, fullServices?: string): string {
  const dot = endpoint.indexOf(".");
  const svc = dot < 0 ? "" : endpoint.slice(0, dot);
  const method = endpoint.slice(dot + 1);
  if (fullServices) {
    for (const full of fullServices.split(",")) {
      if (full === svc || full.endsWith(`.${svc}`)) return `/${full}/${method}`;
    }
  }
  if (svc === "") return `/${service}/${method}`;
  return service === "" ? `/${svc}/${method}` : `/${service}.${svc}/${method}`;
}

/** The node metadata key listing the full gRPC service names a node serves, comma-separated. */
export const GRPC_SERVICES_KEY = "grpc_services";

/** The gRPC content type for a micro one: protobuf → `application/grpc`, JSON → `application/grpc+json`, `application/x` → `application/grpc+x`; anything else is a 400. */
export function grpcContentType(contentType: string): string {
  if (contentType === PROTOBUF_CONTENT_TYPE) return "application/grpc";
  if (contentType === JSON_CONTENT_TYPE) return "application/grpc+json";
  if (contentType.startsWith("application/") && /^[a-z0-9.+-]+$/i.test(contentType.slice(12))) return `application/grpc+${contentType.slice(12)}`;
  throw new MicroError(TRANSPORT_ERROR_ID, 400, `unsupported content type ${JSON.stringify(contentType)} over gRPC: use application/protobuf or application/json`);
}

/** The micro content type of a gRPC one; undefined when it is not gRPC (`application/grpc`, `+proto`, `+json`, `+x`). */
export function microContentType(grpc: string | undefined): string | undefined {
  if (grpc === undefined) return undefined;
  const semi = grpc.indexOf(";");
  const ct = (semi < 0 ? grpc : grpc.slice(0, semi)).trim().toLowerCase();
  if (ct === "application/grpc" || ct === "application/grpc+proto") return PROTOBUF_CONTENT_TYPE;
  if (ct === "application/grpc+json") return JSON_CONTENT_TYPE;
  if (ct.startsWith("application/grpc+")) return `application/${ct.slice(17)}`;
  return undefined;
}
