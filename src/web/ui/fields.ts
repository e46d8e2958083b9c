/**
 * The call form's fields from an endpoint's request description: which input each field gets, and how a
 * value typed there lands in the request JSON (under the field's proto3 JSON name).
 */
import type { ValueRecord } from "../../runtime/definition/index.js";
import { protoJsonName } from "../../proto/json-name.js";
import { typeText } from "../../runtime/registry/describe.js";

export type InputKind = "text" | "number" | "bool" | "json";

const NUMBERS = new Set(["int32", "uint32", "sint32", "fixed32", "sfixed32", "float", "double"]);
const TEXTS = new Set(["string", "bytes", "int64", "uint64", "sint64", "fixed64", "sfixed64"]);

export interface FormField {
  /** The JSON name the request uses. */
  key: string;
  label: string;
  type: string;
  input: InputKind;
}

export function formFields(request: ValueRecord | undefined): FormField[] {
  return (request?.values ?? []).map((f) => {
    const text = typeText(f.type);
    const listOrMap = f.type.endsWith("[]") || f.type.startsWith("map<");
    // A nested message (not a well-known type, which has a scalar JSON form) is typed as JSON.
    const message = !TEXTS.has(f.type) && text === f.type && (f.values?.length ?? 0) > 0;
    const input: InputKind = listOrMap || message ? "json" : NUMBERS.has(f.type) ? "number" : f.type === "bool" ? "bool" : "text";
    return { key: protoJsonName(f.name), label: f.name, type: text, input };
  });
}

/** Parse JSON, or undefined. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The request object of the raw editor, or {} while it does not hold an object. */
export function requestObject(raw: string): Record<string, unknown> {
  const v = tryJson(raw);
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The raw JSON with `key` set from an input (an empty input removes it). */
export function withField(raw: string, field: FormField, value: string | boolean): string {
  const obj = { ...requestObject(raw) };
  if (value === "" || value === false) delete obj[field.key];
  else if (field.input === "number") obj[field.key] = Number(value);
  else if (field.input === "json") obj[field.key] = tryJson(String(value)) ?? value;
  else obj[field.key] = value;
  return JSON.stringify(obj, null, 2);
}

/** What an input shows for `key` of the raw JSON. */
export function fieldValue(raw: string, field: FormField): string | boolean {
  const v = requestObject(raw)[field.key];
  if (field.input === "bool") return v === true;
  if (v === undefined) return "";
  return field.input === "json" ? JSON.stringify(v) : String(v);
}

/** `key=value` lines as metadata. @throws Error naming a bad line */
export function metadataLines(text: string): Record<string, string> {
  const md: Record<string, string> = {};
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`metadata "${line}" must be key=value`);
    md[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return md;
}
