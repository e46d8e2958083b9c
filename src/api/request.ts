/**
 * Reading an HTTP request for the gateway: the raw path and query, the body by content type, and the
 * headers forwarded to the service as call metadata.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Metadata } from "../runtime/metadata/index.js";
import type { ValueRecord } from "../runtime/definition/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { isJsonObject, notAnObjectMessage } from "../runtime/errors/json-object.js";
import { applyQuery } from "./http-rule.js";
import type { Pair } from "./types.js";

/** The path and query of a raw request URL, without any normalisation. */
export function splitUrl(rawUrl: string): { path: string; query: URLSearchParams } {
  const q = rawUrl.indexOf("?");
  return q < 0 ? { path: rawUrl, query: new URLSearchParams() } : { path: rawUrl.slice(0, q), query: new URLSearchParams(rawUrl.slice(q + 1)) };
}

/** How the gateway reads a body. */
export type BodyKind = "json" | "protobuf" | "form" | "none";

const PROTOBUF_TYPES = new Set(["application/protobuf", "application/x-protobuf", "application/proto", "application/octet-stream"]);

function baseType(contentType: string | undefined): string {
  return (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
}

/**
 * The kind of a request body from its content type. A form-encoded body that is really JSON (what
 * `curl -d '{…}'` sends) counts as JSON.
 * @throws MicroError 415 for content types the rpc handler cannot carry.
 */
export function bodyKind(contentType: string | undefined, body: Buffer | undefined): BodyKind {
  if (!body || body.length === 0) return "none";
  const t = baseType(contentType);
  if (t === "application/json" || t.endsWith("+json") || t === "") return "json";
  if (PROTOBUF_TYPES.has(t)) return "protobuf";
  if (t === "application/x-www-form-urlencoded") return body.subarray(0, 64).toString("utf8").trimStart().startsWith("{") ? "json" : "form";
  throw new MicroError(
    "micro.api",
    415,
    `unsupported content type "${contentType}": send application/json, application/protobuf or application/x-www-form-urlencoded`,
    "Unsupported Media Type",
  );
}

/** Parse a JSON body. @throws MicroError 400 saying what is wrong with it. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw MicroError.badRequest("micro.api", `malformed JSON body: ${(error as Error).message}`);
  }
}

/** A request message from JSON: a JSON object. @throws MicroError 400 `request must be a JSON object, got …`. */
export function requireRequestObject(value: unknown): Record<string, unknown> {
  if (!isJsonObject(value)) throw MicroError.badRequest("micro.api", notAnObjectMessage(value));
  return value;
}

/** A form body as a request object (field paths with dots, repeated keys as arrays). */
export function parseFormBody(body: Buffer, fields?: readonly ValueRecord[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  applyQuery(out, new URLSearchParams(body.toString("utf8")), fields, new Set(), "form field");
  return out;
}

/** Headers never forwarded as metadata: hop-by-hop, framing, and what the transport sets itself. */
const NOT_FORWARDED = new Set([
  "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
  "content-length", "content-type", "accept-encoding", "expect", "proxy-authorization",
  "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol",
]);

/** HTTP headers as call metadata (lower-case keys; repeated headers joined with ", "). */
export function headerMetadata(headers: IncomingHttpHeaders): Metadata {
  const md: Metadata = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || NOT_FORWARDED.has(k)) continue;
    md[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  return md;
}

/** Headers as `micro.api.v1.Pair`s. */
export function headerPairs(headers: IncomingHttpHeaders): Record<string, Pair> {
  const out: Record<string, Pair> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = { key: k, values: Array.isArray(v) ? v : [v] };
  }
  return out;
}

/** URL parameters as `micro.api.v1.Pair`s. */
export function paramPairs(params: URLSearchParams): Record<string, Pair> {
  const out: Record<string, Pair> = {};
  for (const key of new Set(params.keys())) out[key] = { key, values: params.getAll(key) };
  return out;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Whether a header a backend asked for may be written (a valid name, no CR/LF or other controls). */
export function safeHeader(name: string, value: string): boolean {
  return TOKEN.test(name) && !BAD_VALUE.test(value);
}
