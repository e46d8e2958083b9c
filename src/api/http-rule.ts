/**
 * `google.api.http` path templates: parsing, matching a request path, and building the request message
 * from path variables, body and query parameters (the transcoding rules of google/api/http.proto).
 *
 * The grammar and the parser are src/http/template.ts, shared with protoc-gen-micro's rule checks.
 */
import type { PathTemplate } from "../http/template.js";
import { protoJsonName } from "../proto/json-name.js";
import { wellKnownJson } from "../proto/well-known.js";
import type { HttpRule, ValueRecord } from "../runtime/definition/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { isJsonObject, notAnObjectMessage } from "../runtime/errors/json-object.js";

export { parseTemplate, type PathTemplate } from "../http/template.js";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Match decoded path segments against a template (a verb is the `:verb` suffix of the last segment).
 * @returns the path variables by dotted field path, or undefined when the path does not match.
 */
export function matchTemplate(t: PathTemplate, pathSegments: readonly string[]): Record<string, string> | undefined {
  let segments = pathSegments;
  if (t.verb !== undefined) {
    const last = segments[segments.length - 1];
    const suffix = `:${t.verb}`;
    if (last === undefined || !last.endsWith(suffix)) return undefined;
    const stripped = last.slice(0, -suffix.length);
    segments = stripped === "" ? segments.slice(0, -1) : [...segments.slice(0, -1), stripped];
  }
  const hasRest = t.segments.length > 0 && t.segments[t.segments.length - 1]!.kind === "starstar";
  if (hasRest ? segments.length < t.segments.length - 1 : segments.length !== t.segments.length) return undefined;
  for (let k = 0; k < t.segments.length; k++) {
    const s = t.segments[k]!;
    if (s.kind === "literal" && segments[k] !== s.value) return undefined;
  }
  const vars: Record<string, string> = {};
  for (const v of t.variables) {
    const part = v.count < 0 ? segments.slice(v.start) : segments.slice(v.start, v.start + v.count);
    vars[v.field.join(".")] = part.join("/");
  }
  return vars;
}

/** Where a value came from, for error messages: `query parameter "page_size"`. */
export type ValueSource = "query parameter" | "path variable" | "form field";

const INT32 = /^-?\d+$/;
const UINT = /^\d+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const ENUM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function inRange(value: string, min: bigint, max: bigint): boolean {
  const n = BigInt(value);
  return n >= min && n <= max;
}

const FLOAT_MAX = 3.4028234663852886e38;

/**
 * A query, form or path value as its proto3 JSON form, checked against the field's type. 64-bit integers stay
 * strings (no precision lost); enums go by name (or number); well-known types in their string forms.
 * @returns `undefined` when the value does not fit the type (the caller names the field).
 */
function typedValue(value: string, type: string): { value: unknown } | { expected: string } {
  switch (type) {
    case "string":
      return { value };
    case "bool":
      return value === "true" ? { value: true } : value === "false" ? { value: false } : { expected: "bool (true or false)" };
    case "int32":
    case "sint32":
    case "sfixed32":
      return INT32.test(value) && inRange(value, -(2n ** 31n), 2n ** 31n - 1n) ? { value: Number(value) } : { expected: type };
    case "uint32":
    case "fixed32":
      return UINT.test(value) && inRange(value, 0n, 2n ** 32n - 1n) ? { value: Number(value) } : { expected: type };
    case "int64":
    case "sint64":
    case "sfixed64":
      return INT32.test(value) && inRange(value, -(2n ** 63n), 2n ** 63n - 1n) ? { value } : { expected: type };
    case "uint64":
    case "fixed64":
      return UINT.test(value) && inRange(value, 0n, 2n ** 64n - 1n) ? { value } : { expected: type };
    case "double":
    case "float": {
      if (value === "NaN" || value === "Infinity" || value === "-Infinity") return { value };
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n) || (type === "float" && Math.abs(n) > FLOAT_MAX)) return { expected: type };
      return { value: n };
    }
    case "bytes":
      return BASE64.test(value) ? { value } : { expected: "bytes (base64)" };
    case "google.protobuf.Timestamp":
      return RFC3339.test(value) && !Number.isNaN(Date.parse(value)) ? { value } : { expected: 'google.protobuf.Timestamp (RFC 3339, e.g. "2024-01-02T15:04:05Z")' };
    case "google.protobuf.Duration":
      return DURATION.test(value) ? { value } : { expected: 'google.protobuf.Duration (e.g. "1.5s")' };
    case "google.protobuf.FieldMask":
    case "google.protobuf.Value":
      return { value };
  }
  const known = wellKnownJson(type);
  const wrapped = known?.wraps;
  if (wrapped) {
    const inner = typedValue(value, wrapped);
    return "expected" in inner ? { expected: `${type} (${inner.expected})` } : inner;
  }
  // Struct, ListValue, Any, Empty: no single-string JSON form.
  if (known?.kind === "object" || known?.kind === "array") return { expected: `${type}, which cannot be given in a URL` };
  // An enum (a message with fields is refused before this): its value name, or its number.
  if (INT32.test(value) && inRange(value, -(2n ** 31n), 2n ** 31n - 1n)) return { value: Number(value) };
  return ENUM_NAME.test(value) ? { value } : { expected: `${type} (an enum value name)` };
}

function fieldOf(fields: readonly ValueRecord[] | undefined, name: string): ValueRecord | undefined {
  const json = protoJsonName(name);
  return fields?.find((f) => f.name === name || protoJsonName(f.name) === json);
}

function unsafeKey(key: string): boolean {
  return key === "__proto__" || key === "constructor" || key === "prototype";
}

/**
 * Set `obj.a.b = value` along a proto field path, with JSON names. When the gateway knows the request's fields
 * (from the registry), each value is typed by its field: a value that does not fit, a field the request does
 * not have, a message field, or a singular field given more than once is a 400 naming the parameter and the
 * expected type. Without field descriptions values pass as strings (repeated keys as arrays).
 */
export function setField(obj: Record<string, unknown>, path: readonly string[], raw: string | string[], fields?: readonly ValueRecord[], source: ValueSource = "query parameter"): void {
  const name = path.join(".");
  const bad = (detail: string): MicroError => MicroError.badRequest("micro.api", `${source} ${JSON.stringify(name)}: ${detail}`);
  let cur = obj;
  let curFields = fields;
  let f: ValueRecord | undefined;
  for (let k = 0; k < path.length; k++) {
    const part = path[k]!;
    const key = protoJsonName(part);
    if (unsafeKey(key)) return;
    f = fieldOf(curFields, part);
    if (curFields !== undefined && f === undefined) throw bad(`the request has no field ${JSON.stringify(path.slice(0, k + 1).join("."))}`);
    if (k === path.length - 1) break;
    if (f && (f.type.endsWith("[]") || f.type.startsWith("map<"))) throw bad(`${part} is a ${f.type.startsWith("map<") ? "map" : "repeated"} field, which cannot be given in a URL`);
    const next = cur[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
    curFields = f?.values;
  }
  const key = protoJsonName(path[path.length - 1]!);
  const values = Array.isArray(raw) ? raw : [raw];
  if (f === undefined) {
    cur[key] = values.length > 1 ? values : values[0]!;
    return;
  }
  if (f.type.startsWith("map<")) throw bad(`${f.type} is a map field, which cannot be given in a URL`);
  const repeated = f.type.endsWith("[]");
  const type = f.type.replace(/\[\]$/, "");
  if (f.values !== undefined && f.values.length > 0) throw bad(`${type} is a message: give its fields, e.g. ${name}.${f.values[0]!.name}`);
  if (!repeated && values.length > 1) throw bad(`given ${values.length} times, but the field is not repeated`);
  const typed = values.map((v) => {
    const t = typedValue(v, type);
    if ("expected" in t) throw bad(`expected ${t.expected}, got ${JSON.stringify(v)}`);
    return t.value;
  });
  cur[key] = repeated ? typed : typed[0];
}

/** Query parameters (`URLSearchParams`) into a request object, skipping fields already bound. */
export function applyQuery(
  obj: Record<string, unknown>,
  query: URLSearchParams,
  fields?: readonly ValueRecord[],
  skip: ReadonlySet<string> = new Set(),
  source: ValueSource = "query parameter",
): void {
  for (const key of new Set(query.keys())) {
    const path = key.split(".");
    if (!path.every((p) => IDENT.test(p))) throw MicroError.badRequest("micro.api", `invalid ${source} name ${JSON.stringify(key)}`);
    if (skip.has(path[0]!) || skip.has(protoJsonName(path[0]!))) continue;
    setField(obj, path, query.getAll(key), fields, source);
  }
}

/**
 * Build the request message for a matched rule: the body (whole or into one field), then path
 * variables, then, for what the body does not cover, query parameters.
 */
export function buildRuleRequest(
  rule: HttpRule,
  vars: Record<string, string>,
  body: unknown,
  query: URLSearchParams,
  fields?: readonly ValueRecord[],
): Record<string, unknown> {
  let request: Record<string, unknown> = {};
  if (rule.body === "*") {
    if (body !== undefined) {
      if (!isJsonObject(body)) throw MicroError.badRequest("micro.api", notAnObjectMessage(body));
      request = { ...body };
    }
  } else if (rule.body) {
    if (body !== undefined) request[protoJsonName(rule.body)] = body;
  }
  for (const [path, value] of Object.entries(vars)) setField(request, path.split("."), value, fields, "path variable");
  if (rule.body !== "*") {
    const skip = new Set<string>(Object.keys(vars).map((p) => p.split(".")[0]!));
    if (rule.body) skip.add(rule.body);
    applyQuery(request, query, fields, skip);
  }
  return request;
}

/** The part of the response a rule returns: the whole message, or its `response_body` field. */
export function ruleResponse(rule: HttpRule, response: unknown): unknown {
  if (!rule.responseBody || typeof response !== "object" || response === null) return response;
  const r = response as Record<string, unknown>;
  return r[protoJsonName(rule.responseBody)] ?? r[rule.responseBody] ?? null;
}
