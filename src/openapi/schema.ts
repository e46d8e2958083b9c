/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 uses) of proto3 JSON values: scalars (64-bit integers as decimal
 * strings, bytes as base64), enums by name, the well-known types in their JSON forms, repeated fields as
 * arrays, maps as objects, and messages as objects of their JSON-named fields with at most one field of each
 * oneof.
 */
import { wellKnownJson } from "../proto/well-known.js";
import type { EnumModel, FieldModel, FieldType, MessageModel } from "./model.js";

/** A JSON Schema object. */
export type Schema = { [key: string]: unknown };

/** `#/components/schemas/<name>`. */
export function schemaRef(typeName: string): Schema {
  return { $ref: `#/components/schemas/${typeName}` };
}

/** The enum whose JSON form is `null`, not a name. */
export const NULL_VALUE = "google.protobuf.NullValue";

const INT64 = "^-?[0-9]+$";
const UINT64 = "^[0-9]+$";

/** The schema of one proto scalar's JSON value. */
export function scalarSchema(scalar: string): Schema {
  switch (scalar) {
    case "double":
    case "float":
      return { type: "number", format: scalar };
    case "int32":
    case "sint32":
    case "sfixed32":
      return { type: "integer", format: "int32" };
    case "uint32":
    case "fixed32":
      return { type: "integer", format: "uint32", minimum: 0, maximum: 4294967295 };
    case "int64":
    case "sint64":
    case "sfixed64":
      return { type: "string", format: "int64", pattern: INT64 };
    case "uint64":
    case "fixed64":
      return { type: "string", format: "uint64", pattern: UINT64 };
    case "bool":
      return { type: "boolean" };
    case "string":
      return { type: "string" };
    case "bytes":
      return { type: "string", format: "byte", contentEncoding: "base64" };
    default:
      return {};
  }
}

/** Extra precision for the string-shaped well-known types. */
const WELL_KNOWN_STRINGS: Readonly<Record<string, Schema>> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" },
  "google.protobuf.FieldMask": { type: "string" },
};

/** The schema of a well-known type's JSON form, or undefined for any other message. */
export function wellKnownSchema(typeName: string): Schema | undefined {
  const known = wellKnownJson(typeName);
  if (!known) return undefined;
  const description = `${typeName}: ${known.display}`;
  if (known.wraps) {
    const inner = scalarSchema(known.wraps);
    return { ...inner, type: [inner.type as string, "null"], description };
  }
  switch (known.kind) {
    case "string":
      return { ...(WELL_KNOWN_STRINGS[typeName] ?? { type: "string" }), description };
    case "object":
      if (typeName === "google.protobuf.Any") return { type: "object", required: ["@type"], properties: { "@type": { type: "string" } }, description };
      if (typeName === "google.protobuf.Empty") return { type: "object", maxProperties: 0, description };
      return { type: "object", description };
    case "array":
      return { type: "array", description };
    default:
      return { description };
  }
}

/** The schema of one value of a field type: a `$ref` for messages and enums the model describes. */
export function typeSchema(type: FieldType, known: { messages: ReadonlyMap<string, MessageModel>; enums: ReadonlyMap<string, EnumModel> }): Schema {
  switch (type.kind) {
    case "scalar":
      return scalarSchema(type.scalar);
    case "enum":
      if (type.typeName === NULL_VALUE) return { type: "null", description: `${NULL_VALUE}: null` };
      return known.enums.has(type.typeName) ? schemaRef(type.typeName) : { type: "string", description: `enum ${type.typeName} (by name)` };
    case "message":
      return wellKnownSchema(type.typeName) ?? (known.messages.has(type.typeName) ? schemaRef(type.typeName) : { type: "object", description: type.typeName });
    case "unknown":
      return wellKnownSchema(type.typeName) ?? { description: type.typeName };
  }
}

/** The schema of a field's JSON value: its type, as an array or map where the label says so, with its comment. */
export function fieldSchema(field: FieldModel, known: { messages: ReadonlyMap<string, MessageModel>; enums: ReadonlyMap<string, EnumModel> }): Schema {
  const value = typeSchema(field.type, known);
  let schema: Schema;
  if (field.label === "repeated") schema = { type: "array", items: value };
  else if (field.label === "map") {
    const key = field.mapKey ?? "string";
    schema = {
      type: "object",
      additionalProperties: value,
      ...(key === "string" ? {} : { propertyNames: key === "bool" ? { enum: ["true", "false"] } : { pattern: key.startsWith("u") || key.startsWith("fixed") ? UINT64 : INT64 } }),
    };
  } else schema = value;
  // A `$ref` with its own description: OpenAPI 3.1 allows siblings of `$ref`.
  if (field.description) schema = { ...schema, description: field.description };
  if (field.deprecated) schema = { ...schema, deprecated: true };
  return schema;
}

/** The schema of a message: an object of its JSON-named fields; at most one field of each oneof may be set. */
export function messageSchema(message: MessageModel, known: { messages: ReadonlyMap<string, MessageModel>; enums: ReadonlyMap<string, EnumModel> }): Schema {
  const properties: Schema = {};
  const oneofs = new Map<string, string[]>();
  for (const f of message.fields) {
    properties[f.jsonName] = fieldSchema(f, known);
    if (f.oneof !== undefined) {
      const members = oneofs.get(f.oneof) ?? [];
      members.push(f.jsonName);
      oneofs.set(f.oneof, members);
    }
  }
  const exclusive: Schema[] = [];
  for (const members of oneofs.values()) {
    for (let i = 0; i < members.length; i++) for (let j = i + 1; j < members.length; j++) exclusive.push({ required: [members[i], members[j]] });
  }
  const short = message.typeName.slice(message.typeName.lastIndexOf(".") + 1);
  return {
    type: "object",
    title: short,
    ...(message.description ? { description: message.description } : {}),
    properties,
    ...(exclusive.length > 0 ? { not: { anyOf: exclusive } } : {}),
  };
}

/** The schema of an enum: its value names. */
export function enumSchema(e: EnumModel): Schema {
  const short = e.typeName.slice(e.typeName.lastIndexOf(".") + 1);
  return { type: "string", title: short, ...(e.description ? { description: e.description } : {}), enum: [...e.values] };
}

/** micro's error body, `{ id, code, detail, status }`. */
export const ERROR_SCHEMA: Schema = {
  type: "object",
  title: "Error",
  description: "A micro error (Go Micro's errors.Error).",
  required: ["id", "code", "detail", "status"],
  properties: {
    id: { type: "string", description: "Who raised it, e.g. `greeter` or `micro.api`." },
    code: { type: "integer", description: "HTTP-style status code." },
    detail: { type: "string", description: "What went wrong." },
    status: { type: "string", description: "The status text of `code`." },
  },
};
