/**
 * Strict proto3 JSON, shared by both message libraries: @bufbuild/protobuf's conformance-tested `fromJson` /
 * `toJson` are the judge, this module adds what the runtime promises on top — a request must be a JSON object,
 * unknown fields are refused unless explicitly allowed, and every refusal is a 400 `MicroError` (`micro.codec`)
 * whose detail names the field path (`book.pageSize: expected int32, got "abc"`).
 *
 * Only types are imported from @bufbuild/protobuf: the caller passes the functions, so that the ts-proto codec
 * can load the library lazily (and from its CommonJS build) while the protobuf-es codec uses its own import.
 */
import type { DescField, DescFile, DescMessage, JsonValue, MessageShape, Registry, fromJson, toJson } from "@bufbuild/protobuf";
import { MicroError } from "../errors/index.js";
import { isJsonObject, jsonExcerpt, notAnObjectMessage } from "../errors/json-object.js";
import type { JsonReadOptions, MessageCodec } from "./codec.js";
import { SCALAR_NAMES } from "../../proto/scalars.js";

/** The @bufbuild/protobuf functions the strict JSON needs (from whichever build the caller loaded). */
export interface ProtobufJson {
  readonly fromJson: typeof fromJson;
  readonly toJson: typeof toJson;
}

/**
 * Throws the 400 for anything but a JSON object (arrays, strings, numbers, `null`), with the refusal every JSON
 * edge uses: `request must be a JSON object, got an array [1,2]`.
 */
export function requireJsonObject(json: unknown): asserts json is { [k: string]: JsonValue } {
  if (!isJsonObject(json)) throw MicroError.badRequest("micro.codec", notAnObjectMessage(json));
}

/** Well-known types with a JSON form of their own: checked as a whole, never descended into field by field. */
const SPECIAL_JSON = new Set(
  [
    "Any",
    "Timestamp",
    "Duration",
    "FieldMask",
    "Struct",
    "Value",
    "ListValue",
    "DoubleValue",
    "FloatValue",
    "Int64Value",
    "UInt64Value",
    "Int32Value",
    "UInt32Value",
    "BoolValue",
    "StringValue",
    "BytesValue",
  ].map((n) => `google.protobuf.${n}`),
);


type Read = { readonly ignoreUnknownFields: boolean; readonly registry: Registry | undefined };

/**
 * `fromJson` with the runtime's rules, then `convert` (ts-proto: to binary and through its `decode`): the JSON
 * must be an object, unknown fields are refused unless `options.ignoreUnknownFields`, and a refusal — by
 * `fromJson` or by `convert` (a value the target type cannot hold) — is a 400 naming the field path.
 */
export function strictFromJson<Desc extends DescMessage, R = MessageShape<Desc>>(
  pb: ProtobufJson,
  desc: Desc,
  json: unknown,
  options: JsonReadOptions | undefined,
  registry: Registry | undefined,
  convert: (message: MessageShape<Desc>) => R = (m) => m as unknown as R,
): R {
  requireJsonObject(json);
  const read: Read = { ignoreUnknownFields: options?.ignoreUnknownFields === true, registry };
  let message: MessageShape<Desc>;
  try {
    message = pb.fromJson(desc, json, read);
  } catch (error) {
    throw MicroError.badRequest("micro.codec", explain(pb, desc, json, read, convert, `${desc.typeName}: ${(error as Error).message}`));
  }
  try {
    return convert(message);
  } catch (error) {
    throw MicroError.badRequest("micro.codec", explain(pb, desc, json, read, convert, `${desc.typeName}: cannot be held by the generated message type (${(error as Error).message})`));
  }
}

/** The refusal's detail: the located field, or `fallback` (e.g. a oneof set twice: no single field is wrong). */
function explain<Desc extends DescMessage, R>(
  pb: ProtobufJson,
  desc: Desc,
  json: { [k: string]: JsonValue },
  read: Read,
  convert: (message: MessageShape<Desc>) => R,
  fallback: string,
): string {
  if (SPECIAL_JSON.has(desc.typeName)) return fallback;
  const check: Check = (j) => {
    let m: MessageShape<Desc>;
    try {
      m = pb.fromJson(desc, j, read);
    } catch {
      return "json";
    }
    try {
      convert(m);
      return undefined;
    } catch (error) {
      return { convert: (error as Error).message };
    }
  };
  return locate(check, desc, json, "", (inner) => inner, read) ?? fallback;
}

/** `toJson` in canonical form (field JSON names, implicit defaults omitted, enums by name). */
export function canonicalToJson<Desc extends DescMessage>(pb: ProtobufJson, desc: Desc, message: Parameters<typeof toJson<Desc>>[1], registry: Registry | undefined): JsonValue {
  return pb.toJson(desc, message, { registry }) as JsonValue;
}

/** Whether the whole message built from a JSON value is accepted: `undefined`, or why not. */
type Check = (json: JsonValue) => undefined | "json" | { convert: string };

function isObject(v: unknown): v is { [k: string]: JsonValue } {
  return isJsonObject(v);
}

/** A JSON value as it appears in a field's error (shortened). */
function show(v: unknown): string {
  return jsonExcerpt(v, 60);
}

function singularType(field: DescField): string {
  switch (field.fieldKind) {
    case "scalar":
      return SCALAR_NAMES[field.scalar] ?? "scalar";
    case "enum":
      return `enum ${field.enum.typeName}`;
    case "message":
      return field.message.typeName;
    case "list":
      return field.listKind === "scalar" ? (SCALAR_NAMES[field.scalar] ?? "scalar") : field.listKind === "enum" ? `enum ${field.enum.typeName}` : field.message.typeName;
    case "map":
      return field.mapKind === "scalar" ? (SCALAR_NAMES[field.scalar] ?? "scalar") : field.mapKind === "enum" ? `enum ${field.enum.typeName}` : field.message.typeName;
  }
}

/** A JSON value surely valid for a map field's values (to tell a bad key from a bad value). */
function defaultJson(field: DescField & { fieldKind: "map" }): JsonValue {
  if (field.mapKind === "message") return field.message.typeName === "google.protobuf.Value" ? null : SPECIAL_JSON.has(field.message.typeName) ? defaultWkt(field.message.typeName) : {};
  if (field.mapKind === "enum") return 0;
  return field.scalar === 9 || field.scalar === 12 ? "" : field.scalar === 8 ? false : 0;
}

function defaultWkt(typeName: string): JsonValue {
  switch (typeName) {
    case "google.protobuf.Timestamp":
      return "1970-01-01T00:00:00Z";
    case "google.protobuf.Duration":
      return "0s";
    case "google.protobuf.FieldMask":
    case "google.protobuf.StringValue":
    case "google.protobuf.BytesValue":
      return "";
    case "google.protobuf.ListValue":
      return [];
    case "google.protobuf.BoolValue":
      return false;
    case "google.protobuf.Struct":
      return {};
    case "google.protobuf.Any":
      return {};
    default:
      return 0;
  }
}

function elementMessage(field: DescField): DescMessage | undefined {
  const m = field.fieldKind === "message" ? field.message : field.fieldKind === "list" && field.listKind === "message" ? field.message : field.fieldKind === "map" && field.mapKind === "message" ? field.message : undefined;
  return m !== undefined && !SPECIAL_JSON.has(m.typeName) ? m : undefined;
}

/**
 * The first refused field of `json` (an object for `desc`, found in the request at `prefix`), as `path: reason`;
 * `undefined` when every field alone is accepted. `wrap` rebuilds a whole request around a value for `desc`, so
 * each sub-value is checked alone by the same judge as the request (`fromJson`, then the conversion).
 */
function locate(
  check: Check,
  desc: DescMessage,
  json: { [k: string]: JsonValue },
  prefix: string,
  wrap: (inner: JsonValue) => JsonValue,
  read: Read,
): string | undefined {
  const leaf = (at: string, expected: string, value: JsonValue, why: ReturnType<Check>): string =>
    typeof why === "object" ? `${at}: ${show(value)} cannot be held by the generated message type (${why.convert})` : `${at}: expected ${expected}, got ${show(value)}`;
  for (const key of Object.keys(json)) {
    const value = json[key]!;
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (field === undefined) {
      if (read.ignoreUnknownFields) continue;
      return `${path}: unknown field (${desc.typeName} has no field "${key}")`;
    }
    const why = check(wrap({ [key]: value }));
    if (why === undefined) continue;
    const sub = elementMessage(field);
    if (field.fieldKind === "list") {
      if (!Array.isArray(value)) return `${path}: expected a list of ${singularType(field)}, got ${show(value)}`;
      for (let i = 0; i < value.length; i++) {
        const item = value[i]!;
        const itemWhy = check(wrap({ [key]: [item] }));
        if (itemWhy === undefined) continue;
        const at = `${path}[${i}]`;
        const inner = sub !== undefined && isObject(item) ? locate(check, sub, item, at, (j) => wrap({ [key]: [j] }), read) : undefined;
        return inner ?? leaf(at, singularType(field), item, itemWhy);
      }
    } else if (field.fieldKind === "map") {
      if (!isObject(value)) return `${path}: expected a map of ${singularType(field)}, got ${show(value)}`;
      for (const k of Object.keys(value)) {
        const item = value[k]!;
        const itemWhy = check(wrap({ [key]: { [k]: item } }));
        if (itemWhy === undefined) continue;
        const at = `${path}[${JSON.stringify(k)}]`;
        if (check(wrap({ [key]: { [k]: defaultJson(field) } })) !== undefined) return `${at}: expected a ${SCALAR_NAMES[field.mapKey] ?? "map"} key, got ${show(k)}`;
        const inner = sub !== undefined && isObject(item) ? locate(check, sub, item, at, (j) => wrap({ [key]: { [k]: j } }), read) : undefined;
        return inner ?? leaf(at, singularType(field), item, itemWhy);
      }
    } else if (sub !== undefined && isObject(value)) {
      const inner = locate(check, sub, value, path, (j) => wrap({ [key]: j }), read);
      if (inner !== undefined) return inner;
    }
    return leaf(path, singularType(field), value, why);
  }
  return undefined;
}

/** A file and every file it depends on, itself first, each once. */
export function withDependencies(file: DescFile): DescFile[] {
  const out: DescFile[] = [];
  const seen = new Set<string>();
  const walk = (f: DescFile): void => {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    out.push(f);
    for (const d of f.dependencies) walk(d);
  };
  walk(file);
  return out;
}

/**
 * The same codec, but JSON fields the message does not have are skipped instead of refused (400). For a
 * handler, prefer the handler option `allowUnknownJsonFields` (`registerXHandler(server, impl, { allowUnknownJsonFields: true })`).
 */
export function allowUnknownJsonFields<T>(codec: MessageCodec<T>): MessageCodec<T> {
  return { ...codec, fromJSON: (json, options) => codec.fromJSON(json, { ...options, ignoreUnknownFields: true }) };
}
