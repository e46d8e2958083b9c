/**
 * `micro list services` and `micro get service <name>`: what the registry knows, as text or JSON.
 */
import type { ValueRecord } from "../../../runtime/definition/index.js";
import { MicroError } from "../../../runtime/errors/index.js";
import type { ServiceRecord } from "../../../runtime/registry/index.js";
import { out, runCommand } from "./io.js";
import { openRuntime } from "./runtime.js";

export interface ListArguments {
  resource: "services";
  output: "text" | "json";
  [flag: string]: unknown;
}

export interface GetArguments {
  resource: "service";
  name: string;
  output: "text" | "json";
  [flag: string]: unknown;
}

export async function listServices(args: ListArguments): Promise<void> {
  const rt = await openRuntime(args);
  await runCommand(async () => {
    const names = [...new Set((await rt.plugins.registry.listServices()).map((s) => s.name))].sort();
    if (args.output === "json") out(JSON.stringify(names));
    else if (names.length > 0) out(names.join("\n"));
  }, rt.close);
}

function metadataText(md: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(md ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "-" : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

function fieldsText(value: ValueRecord | undefined, indent = "\t"): string {
  if (!value?.values || value.values.length === 0) return "{}";
  const lines = value.values.map((f) => `${indent}${f.name} ${f.type}${f.values && f.values.length > 0 ? ` ${fieldsText(f, indent + "\t")}` : ""}`);
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

export async function getService(args: GetArguments): Promise<void> {
  const rt = await openRuntime(args);
  await runCommand(async () => {
    const records = await rt.plugins.registry.getService(args.name);
    if (records.length === 0) throw MicroError.notFound("micro.cli", `service ${args.name} is not registered; \`micro list services\` shows what is`);
    out(args.output === "json" ? JSON.stringify(records, null, 2) : serviceText(records));
  }, rt.close);
}
