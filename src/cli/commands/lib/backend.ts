/**
 * What a one-shot `micro` command talks to: the registry and the client. Directly (the plugins the global flags
 * name, `runtime.ts`) or, with `--proxy_address host:port` (`MICRO_PROXY_ADDRESS`), through a sidecar's HTTP
 * API (`sidecar-proxy.ts`), so the commands never branch on which.
 */
import type { Client } from "../../../runtime/client/index.js";
import type { ConfigValues } from "../../../runtime/config/index.js";
import type { Registry } from "../../../runtime/registry/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";
import { splitHostPort } from "../../../runtime/transport/address.js";
import { openRuntime } from "./runtime.js";

/** The registry reads the commands make. */
export type BackendRegistry = Pick<Registry, "listServices" | "getService">;

export interface Backend {
  readonly registry: BackendRegistry;
  readonly client: Client;
  /** The global flags (direct backend only: a proxy's registry is the sidecar's business). */
  readonly config?: ConfigValues;
  /** The sidecar's address when the commands go through one. */
  readonly proxy?: string;
  close(): Promise<void>;
}

/** The proxy address from `--proxy_address` or `MICRO_PROXY_ADDRESS`, checked. @throws UsageError. */
export function proxyAddress(args: Record<string, unknown>): string | undefined {
  const value = args.proxy_address ?? process.env.MICRO_PROXY_ADDRESS;
  if (value === undefined || value === "") return undefined;
  const text = String(value).replace(/^https?:\/\//, "").replace(/\/$/, "");
  const { host, port, problem } = splitHostPort(text);
  if (problem || host === "" || !/^\d+$/.test(port) || Number(port) > 65535) throw new UsageError(`invalid --proxy_address "${String(value)}": use host:port, e.g. 127.0.0.1:8081`);
  return String(value);
}

/** Open the backend the flags select. @throws UsageError for a bad global flag. */
export async function openBackend(args: Record<string, unknown>): Promise<Backend> {
  const proxy = proxyAddress(args);
  if (proxy !== undefined) {
    const { proxyClient, proxyRegistry } = await import("./sidecar-proxy.js");
    return { registry: proxyRegistry(proxy), client: proxyClient(proxy), proxy, close: async () => {} };
  }
  const rt = await openRuntime(args);
  return { registry: rt.plugins.registry, client: rt.client, config: rt.config, close: rt.close };
}
