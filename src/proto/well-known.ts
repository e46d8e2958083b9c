/**
 * The well-known types' proto3 JSON forms, in one table for the generator (which types a path variable can
 * hold), the gateway (which URL values a field takes) and `micro get service` (how a field's type is shown).
 * Like the rest of src/proto/, it imports nothing.
 */

/** The JSON form of a well-known type: a string, number or bool (one value), an object, an array, or any value. */
export type WellKnownJsonKind = "string" | "number" | "bool" | "object" | "array" | "any";

export interface WellKnownJson {
  /** What JSON value the type is written as (wrappers: their scalar's form; `null` is also accepted for them). */
  readonly kind: WellKnownJsonKind;
  /** The form in words, as `micro get service` shows it: `string (RFC 3339)`, `number (int32) or null`. */
  readonly display: string;
  /** For the wrapper types: the proto scalar they wrap (`google.protobuf.Int32Value` → `int32`). */
  readonly wraps?: string;
}

const TABLE: Readonly<Record<string, WellKnownJson>> = {
  "google.protobuf.Timestamp": { kind: "string", display: "string (RFC 3339)" },
  "google.protobuf.Duration": { kind: "string", display: 'string (e.g. "1.5s")' },
  "google.protobuf.FieldMask": { kind: "string", display: 'string (e.g. "a.b,c")' },
  "google.protobuf.Struct": { kind: "object", display: "object" },
  "google.protobuf.Value": { kind: "any", display: "any JSON value" },
  "google.protobuf.ListValue": { kind: "array", display: "array" },
  "google.protobuf.Any": { kind: "object", display: 'object (with "@type")' },
  "google.protobuf.Empty": { kind: "object", display: "object ({})" },
  "google.protobuf.DoubleValue": { kind: "number", display: "number or null", wraps: "double" },
  "google.protobuf.FloatValue": { kind: "number", display: "number or null", wraps: "float" },
  "google.protobuf.Int64Value": { kind: "string", display: "string (int64) or null", wraps: "int64" },
  "google.protobuf.UInt64Value": { kind: "string", display: "string (uint64) or null", wraps: "uint64" },
  "google.protobuf.Int32Value": { kind: "number", display: "number (int32) or null", wraps: "int32" },
  "google.protobuf.UInt32Value": { kind: "number", display: "number (uint32) or null", wraps: "uint32" },
  "google.protobuf.BoolValue": { kind: "bool", display: "bool or null", wraps: "bool" },
  "google.protobuf.StringValue": { kind: "string", display: "string or null", wraps: "string" },
  "google.protobuf.BytesValue": { kind: "string", display: "string (base64) or null", wraps: "bytes" },
};

/** The JSON form of the well-known type named `typeName` (fully qualified), or undefined for any other type. */
export function wellKnownJson(typeName: string): WellKnownJson | undefined {
  return Object.prototype.hasOwnProperty.call(TABLE, typeName) ? TABLE[typeName] : undefined;
}

/** Whether a well-known type is written as one JSON string, number or bool (so a URL segment can hold it). */
export function isSingleValueWellKnown(typeName: string): boolean {
  const kind = wellKnownJson(typeName)?.kind;
  return kind === "string" || kind === "number" || kind === "bool";
}
