/**
 * Field descriptions for the registry (`ValueRecord[]`, Go Micro's `registry.Value`): what `micro get service`
 * shows for a request or response. Names are the proto3 JSON names (what `micro call` sends); types are the
 * proto scalar names, enum or message full names, `[]` for repeated fields and `map<K, V>` for maps. Nesting is
 * bounded by {@link MAX_DEPTH}, and a message already being described on the current path is not expanded again,
 * so recursive messages terminate.
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { SCALAR_NAMES } from "../proto/scalars.js";

/** How many message levels are described (the request itself is level 1). */
export const MAX_DEPTH = 3;

/** A field description, as plain data. */
export interface FieldRecord {
  readonly name: string;
  readonly type: string;
  readonly values?: readonly FieldRecord[];
}


function describe(field: DescField, depth: number, path: readonly string[]): FieldRecord {
  let type: string;
  let message: DescMessage | undefined;
  switch (field.fieldKind) {
    case "scalar":
      type = SCALAR_NAMES[field.scalar];
      break;
    case "enum":
      type = field.enum.typeName;
      break;
    case "message":
      type = field.message.typeName;
      message = field.message;
      break;
    case "list":
      type =
        (field.listKind === "scalar" ? SCALAR_NAMES[field.scalar] : field.listKind === "enum" ? field.enum.typeName : field.message.typeName) +
        "[]";
      message = field.listKind === "message" ? field.message : undefined;
      break;
    case "map": {
      const value = field.mapKind === "scalar" ? SCALAR_NAMES[field.scalar] : field.mapKind === "enum" ? field.enum.typeName : field.message.typeName;
      type = `map<${SCALAR_NAMES[field.mapKey]}, ${value}>`;
      message = field.mapKind === "message" ? field.message : undefined;
      break;
    }
  }
  const values = message !== undefined ? fieldRecords(message, depth + 1, path) : undefined;
  return values !== undefined && values.length > 0 ? { name: field.jsonName, type, values } : { name: field.jsonName, type };
}

/** The field descriptions of a message; `undefined` past the depth bound or on recursion. */
export function fieldRecords(message: DescMessage, depth = 1, path: readonly string[] = []): FieldRecord[] | undefined {
  if (depth > MAX_DEPTH || path.includes(message.typeName)) return undefined;
  const inner = [...path, message.typeName];
  return message.fields.map((f) => describe(f, depth, inner));
}

/** Source text of a field description list (stable key order, JSON string escaping). */
export function printFieldRecords(records: readonly FieldRecord[]): string {
  return `[${records
    .map((r) => `{ name: ${JSON.stringify(r.name)}, type: ${JSON.stringify(r.type)}${r.values ? `, values: ${printFieldRecords(r.values)}` : ""} }`)
    .join(", ")}]`;
}

const printed = new WeakMap<DescMessage, string>();

/** {@link printFieldRecords} of {@link fieldRecords}, computed once per message (a message is often used by many methods). */
export function fieldRecordsSource(message: DescMessage): string {
  let text = printed.get(message);
  if (text === undefined) {
    text = printFieldRecords(fieldRecords(message) ?? []);
    printed.set(message, text);
  }
  return text;
}
