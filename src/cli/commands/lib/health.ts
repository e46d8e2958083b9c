/**
 * `micro health <service>`: `Debug.Health` on every node, directly by address.
 */
import { healthMethod } from "../../../runtime/server/health.js";
import { fromError, MicroError } from "../../../runtime/errors/index.js";
import { durationFlag, out, runCommand } from "./io.js";
import { NOT_REGISTERED_HINT } from "./call.js";
import { openRuntime } from "./runtime.js";
import { commandIo } from "./context.js";

export interface HealthArguments {
  service: string;
  timeout?: string;
  output: "text" | "json";
  [flag: string]: unknown;
}

interface NodeHealth {
  id: string;
  address: string;
  version: string;
  status: string;
  error?: ReturnType<MicroError["toJSON"]>;
}

export async function health(args: HealthArguments): Promise<void> {
  const timeout = durationFlag(args.timeout, "timeout") ?? 5000;
  const rt = await openRuntime(args);
  await runCommand(async () => {
    const records = await rt.plugins.registry.getService(args.service);
    const nodes = records.flatMap((r) => r.nodes.map((n) => ({ n, version: r.version })));
    if (nodes.length === 0) throw MicroError.notFound("micro.cli", `service ${args.service} has no registered nodes: ${NOT_REGISTERED_HINT}`);
    const results: NodeHealth[] = await Promise.all(
      nodes.map(async ({ n, version }): Promise<NodeHealth> => {
        try {
          const rsp = await rt.client.call({ service: args.service, endpoint: "Debug.Health", method: healthMethod }, {}, { address: n.address, timeout, retries: 0, signal: commandIo().signal });
          return { id: n.id, address: n.address, version, status: rsp.status || "unknown" };
        } catch (error) {
          return { id: n.id, address: n.address, version, status: "unreachable", error: fromError(error).toJSON() };
        }
      }),
    );
    // Cancelled (Ctrl-C at the prompt): every node would read "unreachable"; say what happened instead.
    const signal = commandIo().signal;
    if (signal?.aborted) throw new MicroError("micro.cli", 499, `health of ${args.service} cancelled (${String(signal.reason)})`);
    if (args.output === "json") out(JSON.stringify(results, null, 2));
    else {
      out("NODE\tADDRESS\tVERSION\tSTATUS");
      for (const r of results) out(`${r.id}\t${r.address}\t${r.version}\t${r.status}${r.error ? ` (${r.error.detail})` : ""}`);
    }
    const bad = results.filter((r) => r.status !== "ok");
    if (bad.length > 0) throw new MicroError("micro.cli", 503, `${bad.length} of ${results.length} nodes of ${args.service} are not healthy`);
  }, rt.close);
}
