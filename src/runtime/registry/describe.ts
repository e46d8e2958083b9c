/**
 * A service as text, in Go Micro's `micro get service` layout, and a field's type as the JSON form a caller
 * writes: what `micro get service`, and the console of `micro web`, print.
 */
import type { ValueRecord } from "../definition/index.js";
import type { ServiceRecord } from "./index.js";
import { wellKnownJson } from "../../proto/well-known.js";

/** The direct broker registers one service per subscribed topic under this prefix (its delivery endpoints). */
export const BROKER_PREFIX = "micro.broker.";

/** Service names as `micro list services` shows them: sorted, once each, the broker's own entries left out unless `all`. */
export function serviceNames(records: readonly ServiceRecord[], all = false): string[] {
  const names = [...new Set(records.map((s) => s.name))].sort();
  return all ? names : names.filter((n) => !n.startsWith(BROKER_PREFIX));
}

function metadataText(md: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(md ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "-" : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

/** A field's type as shown: well-known types (also repeated, or as map values) by their JSON form. */
export function typeText(type: string): string {
  const repeated = type.endsWith("[]");
  const base = repeated ? type.slice(0, -2) : type;
  const map = /^map<([^,]+), (.+)>$/.exec(base);
  const value = map ? wellKnownJson(map[2]!)?.display : undefined;
  if (map) return value !== undefined ? `map<${map[1]}, ${value}>` : type;
  const known = wellKnownJson(base)?.display;
  return known === undefined ? type : repeated ? `list of ${known}` : known;
}

function fieldsText(value: ValueRecord | undefined, indent = "\t"): string {
  if (!value?.values || value.values.length === 0) return "{}";
  const lines = value.values.map((f) => {
    const known = typeText(f.type) !== f.type;
    return `${indent}${f.name} ${typeText(f.type)}${!known && f.values && f.values.length > 0 ? ` ${fieldsText(f, indent + "\t")}` : ""}`;
  });
  return `{\n${lines.join("\n")}\n${indent.slice(1)}}`;
}

/** Go Micro's `micro get service` layout. */
export function serviceText(records: readonly ServiceRecord[]): string {
  const parts: string[] = [`service  ${records[0]!.name}`];
  for (const rec of records) {
    parts.push("", `version ${rec.version}`, "", "ID\tAddress\tMetadata");
    for (const n of rec.nodes) parts.push(`${n.id}\t${n.address}\t${metadataText(n.metadata)}`);
    for (const ep of rec.endpoints) {
      parts.push("", `Endpoint: ${ep.name}`, `Metadata: ${metadataText(ep.metadata)}`, "");
      parts.push(`Request: ${fieldsText(ep.request)}`, "", `Response: ${fieldsText(ep.response)}`);
    }
  }
  return parts.join("\n");
}
