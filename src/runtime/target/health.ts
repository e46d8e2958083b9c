/**
 * `Debug.Health` on every node of a service, each called directly by its address: what `micro health` and
 * the web dashboard show.
 */
import type { Client } from "../client/index.js";
import { fromError, type MicroError } from "../errors/index.js";
import type { Registry } from "../registry/index.js";
import { HEALTH_ENDPOINT, healthMethod } from "../server/health.js";

/** One node's answer. */
export interface NodeHealth {
  id: string;
  address: string;
  version: string;
  /** What the node said (`ok`, …), or `unreachable` when the call failed. */
  status: string;
  /** Why the call failed. */
  error?: ReturnType<MicroError["toJSON"]>;
}

/**
 * Ask every registered node of `service` for its health, in parallel, without retries.
 * @param timeout per node, in milliseconds (default 5000)
 * @param signal cancels every node's call
 * @returns one entry per node; `[]` when the service has no registered node
 */
export async function checkHealth(client: Client, registry: Pick<Registry, "getService">, service: string, timeout = 5000, signal?: AbortSignal): Promise<NodeHealth[]> {
  const records = await registry.getService(service);
  const nodes = records.flatMap((r) => r.nodes.map((n) => ({ n, version: r.version })));
  return Promise.all(
    nodes.map(async ({ n, version }): Promise<NodeHealth> => {
      try {
        const rsp = await client.call({ service, endpoint: HEALTH_ENDPOINT, method: healthMethod }, {}, { address: n.address, timeout, retries: 0, ...(signal ? { signal } : {}) });
        return { id: n.id, address: n.address, version, status: rsp.status || "unknown" };
      } catch (error) {
        return { id: n.id, address: n.address, version, status: "unreachable", error: fromError(error).toJSON() };
      }
    }),
  );
}
