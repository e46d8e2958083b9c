/**
 * `micro list services` and `micro get service <name>`: what the registry knows, as text or JSON.
 */
import type { ValueRecord } from "../../../runtime/definition/index.js";
import { MicroError } from "../../../runtime/errors/index.js";
import type { ServiceRecord } from "../../../runtime/registry/index.js";
import { existsSync } from "node:fs";
import { addressList } from "../../../runtime/config/plugins.js";
import { out, runCommand } from "./io.js";
import { openRuntime, type CliRuntime } from "./runtime.js";
import { wellKnownJson } from "../../../proto/well-known.js";

/** The direct broker registers one service per subscribed topic under this prefix (its delivery endpoints). */
const BROKER_PREFIX = "micro.broker.";

/**
 * A local registry pointed at a directory that does not exist has nothing to show: say so (a typo in
 * --registry_address would otherwise look like an empty registry).
 */
function checkLocalRegistryDirectory(rt: CliRuntime): void {
  if ((rt.config.registry ?? "local") !== "local") return;
  const dir = addressList(rt.config.registry_address)?.[0];
  if (dir !== undefined && !existsSync(dir)) {
    throw MicroError.notFound("micro.cli", `registry directory ${dir} does not exist (--registry_address / MICRO_REGISTRY_ADDRESS): no service has registered there`);
  }
}

export interface ListArguments {
  resource: "services";
  output: "text" | "json";
  /** Include the direct broker's internal `micro.broker.<topic>` entries. */
  all?: boolean;
  [flag: string]: unknown;
}

export interface GetArguments {
  resource: "service";
  name: string;
  output: "text" | "json";
  [flag: string]: unknown;
}

/** The sorted, distinct names of `services`, without the direct broker's internal entries unless `all` (default false). */
export function serviceNames(services: readonly ServiceRecord[], all = false): string[] {
  const names = [...new Set(services.map((s) => s.name))].sort();
  return all ? names : names.filter((n) => !n.startsWith(BROKER_PREFIX));
}

export async function listServices(args: ListArguments): Promise<void> {
  const rt = await openRuntime(args);
  await runCommand(async () => {
    checkLocalRegistryDirectory(rt);
    const names = serviceNames(await rt.plugins.registry.listServices(), args.all);
    if (args.output === "json") out(JSON.stringify(names));
    else if (names.length > 0) out(names.join("\n"));
  }, rt.close);
}

function metadataText(md: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(md ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "-" : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

/** A well-known type by the JSON form `micro call` takes for it (proto3 JSON mapping), or undefined. */
function wellKnownText(type: string): string | undefined {
  return wellKnownJson(type)?.display;
}

/** A field's type as shown: well-known types (also repeated, or as map values) by their JSON form. */
export function typeText(type: string): string {
  const repeated = type.endsWith("[]");
  const base = repeated ? type.slice(0, -2) : type;
  const map = /^map<([^,]+), (.+)>$/.exec(base);
  const value = map ? wellKnownText(map[2]!) : undefined;
  if (map) return value !== undefined ? `map<${map[1]}, ${value}>` : type;
  const known = wellKnownText(base);
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

export async function getService(args: GetArguments): Promise<void> {
  const rt = await openRuntime(args);
  await runCommand(async () => {
    checkLocalRegistryDirectory(rt);
    const records = await rt.plugins.registry.getService(args.name);
    if (records.length === 0) throw MicroError.notFound("micro.cli", `service ${args.name} is not registered; \`micro list services\` shows what is`);
    out(args.output === "json" ? JSON.stringify(records, null, 2) : serviceText(records));
  }, rt.close);
}
