/**
 * `google.api.http` path templates: parsing, matching a request path, and building the request message
 * from path variables, body and query parameters (the transcoding rules of google/api/http.proto).
 *
 * Template = "/" Segments [ ":" Verb ]; Segment = "*" | "**" | LITERAL | "{" field.path [ "=" Segments ] "}".
 */
import type { HttpRule, ValueRecord } from "../runtime/definition/index.js";
import { MicroError } from "../runtime/errors/index.js";

type Seg = { kind: "literal"; value: string } | { kind: "star" } | { kind: "starstar" };

interface Variable {
  /** Field path, e.g. `["book", "name"]`. */
  readonly field: readonly string[];
  /** Index of the first segment it covers and how many (`-1` = the rest of the path, for `**`). */
  readonly start: number;
  readonly count: number;
}

/** A parsed path template. */
export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly Seg[];
  readonly variables: readonly Variable[];
  readonly verb?: string;
  /** Literal segments count: more literals make a more specific route. */
  readonly literals: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** @throws Error naming the problem when `template` is not a valid http rule path. */
export function parseTemplate(template: string): PathTemplate {
  if (!template.startsWith("/")) throw new Error(`http rule path ${JSON.stringify(template)} must start with "/"`);
  let body = template.slice(1);
  let verb: string | undefined;
  // The verb is a ":" after the last segment, outside any variable.
  const lastSlash = body.lastIndexOf("/");
  const lastBrace = body.lastIndexOf("}");
  const colon = body.indexOf(":", Math.max(lastSlash, lastBrace) + 1);
  if (colon >= 0) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
  }
  const segments: Seg[] = [];
  const variables: Variable[] = [];
  let i = 0;
  const readSegs = (inVar: boolean): void => {
    for (;;) {
      if (body[i] === "{") {
        if (inVar) throw new Error(`nested variable in http rule path ${JSON.stringify(template)}`);
        const close = body.indexOf("}", i);
        if (close < 0) throw new Error(`unclosed "{" in http rule path ${JSON.stringify(template)}`);
        const inner = body.slice(i + 1, close);
        const eq = inner.indexOf("=");
        const fieldPath = (eq < 0 ? inner : inner.slice(0, eq)).split(".");
        if (!fieldPath.every((f) => IDENT.test(f))) throw new Error(`bad field path in http rule path ${JSON.stringify(template)}`);
        const start = segments.length;
        if (eq < 0) {
          segments.push({ kind: "star" });
        } else {
          const saved = body;
          const savedI = i;
          body = inner.slice(eq + 1);
          i = 0;
          readSegs(true);
          body = saved;
          i = savedI;
        }
        const count = segments.slice(start).some((s) => s.kind === "starstar") ? -1 : segments.length - start;
        variables.push({ field: fieldPath, start, count });
        i = close + 1;
      } else {
        let end = body.indexOf("/", i);
        if (end < 0) end = body.length;
        const text = body.slice(i, end);
        if (text === "") throw new Error(`empty segment in http rule path ${JSON.stringify(template)}`);
        if (text === "*") segments.push({ kind: "star" });
        else if (text === "**") segments.push({ kind: "starstar" });
        else if (/[{}*]/.test(text)) throw new Error(`bad segment ${JSON.stringify(text)} in http rule path ${JSON.stringify(template)}`);
        else segments.push({ kind: "literal", value: text });
        i = end;
      }
      if (i >= body.length) return;
      if (body[i] !== "/") throw new Error(`expected "/" at ${i} in http rule path ${JSON.stringify(template)}`);
      i++;
    }
  };
  if (body !== "") readSegs(false);
  if (segments.findIndex((s) => s.kind === "starstar") >= 0 && segments.findIndex((s) => s.kind === "starstar") !== segments.length - 1) {
    throw new Error(`"**" must be the last segment in http rule path ${JSON.stringify(template)}`);
  }
  return { source: template, segments, variables, verb, literals: segments.filter((s) => s.kind === "literal").length };
}

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

/** proto field name → its proto3 JSON name (`user_id` → `userId`). */
export function jsonName(field: string): string {
  return field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const INT_TYPES = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32", "double", "float"]);

/** A query or path value as JSON, typed by the field's registry description when there is one. */
function typed(value: string, type: string | undefined): unknown {
  if (type === "bool") return value === "true" ? true : value === "false" ? false : value;
  if (type && INT_TYPES.has(type)) {
    const n = Number(value);
    return value.trim() !== "" && Number.isFinite(n) ? n : value;
  }
  return value;
}

function fieldOf(fields: readonly ValueRecord[] | undefined, name: string): ValueRecord | undefined {
  return fields?.find((f) => f.name === name || jsonName(f.name) === name);
}

/** Set `obj.a.b = value` along a proto field path, with JSON names. Repeated fields collect arrays. */
export function setField(obj: Record<string, unknown>, path: readonly string[], raw: string | string[], fields?: readonly ValueRecord[]): void {
  let cur = obj;
  let curFields = fields;
  for (let k = 0; k < path.length - 1; k++) {
    const f = fieldOf(curFields, path[k]!);
    const key = jsonName(path[k]!);
    if (key === "__proto__" || key === "constructor" || key === "prototype") return;
    const next = cur[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
    curFields = f?.values;
  }
  const last = path[path.length - 1]!;
  const key = jsonName(last);
  if (key === "__proto__" || key === "constructor" || key === "prototype") return;
  const f = fieldOf(curFields, last);
  const repeated = f?.type.endsWith("[]") ?? false;
  const baseType = f?.type.replace(/\[\]$/, "");
  const values = Array.isArray(raw) ? raw : [raw];
  if (repeated || values.length > 1) cur[key] = values.map((v) => typed(v, baseType));
  else cur[key] = typed(values[0]!, baseType);
}

/** Query parameters (`URLSearchParams`) into a request object, skipping fields already bound. */
export function applyQuery(obj: Record<string, unknown>, query: URLSearchParams, fields?: readonly ValueRecord[], skip: ReadonlySet<string> = new Set()): void {
  for (const key of new Set(query.keys())) {
    const path = key.split(".");
    if (!path.every((p) => IDENT.test(p))) throw MicroError.badRequest("micro.api", `invalid query parameter name ${JSON.stringify(key)}`);
    if (skip.has(path[0]!) || skip.has(jsonName(path[0]!))) continue;
    setField(obj, path, query.getAll(key), fields);
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
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw MicroError.badRequest("micro.api", "the request body must be a JSON object");
      request = { ...(body as Record<string, unknown>) };
    }
  } else if (rule.body) {
    if (body !== undefined) request[jsonName(rule.body)] = body;
  }
  for (const [path, value] of Object.entries(vars)) setField(request, path.split("."), value, fields);
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
  return r[jsonName(rule.responseBody)] ?? r[rule.responseBody] ?? null;
}
