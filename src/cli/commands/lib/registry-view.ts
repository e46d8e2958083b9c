/**
 * `micro list services` and `micro get service <name>`: what the registry knows, as text or JSON.
 */
import { MicroError } from "../../../runtime/errors/index.js";
import type { ServiceRecord } from "../../../runtime/registry/index.js";
import { existsSync } from "node:fs";
import { addressList } from "../../../runtime/config/plugins.js";
import { out, runCommand } from "./io.js";
import { openBackend, type Backend } from "./backend.js";
import { serviceNames, serviceText } from "../../../runtime/registry/describe.js";

/**
 * A local registry pointed at a directory that does not exist has nothing to show: say so (a typo in
 * --registry_address would otherwise look like an empty registry).
 */
function checkLocalRegistryDirectory(rt: Backend): void {
  if (!rt.config || (rt.config.registry ?? "local") !== "local") return;
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

export async function listServices(args: ListArguments): Promise<void> {
  const rt = await openBackend(args);
  await runCommand(async () => {
    checkLocalRegistryDirectory(rt);
    const names = serviceNames(await rt.registry.listServices(), args.all);
    if (args.output === "json") out(JSON.stringify(names));
    else if (names.length > 0) out(names.join("\n"));
  }, rt.close);
}

export async function getService(args: GetArguments): Promise<void> {
  const rt = await openBackend(args);
  await runCommand(async () => {
    checkLocalRegistryDirectory(rt);
    const records = await rt.registry.getService(args.name);
    if (records.length === 0) throw MicroError.notFound("micro.cli", `service ${args.name} is not registered; \`micro list services\` shows what is`);
    out(args.output === "json" ? JSON.stringify(records, null, 2) : serviceText(records));
  }, rt.close);
}
