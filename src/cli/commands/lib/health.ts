/**
 * `micro health <service>`: `Debug.Health` on every node, directly by address.
 */
import { checkHealth } from "../../../runtime/target/health.js";
import { MicroError } from "../../../runtime/errors/index.js";
import { durationFlag, out, runCommand } from "./io.js";
import { NOT_REGISTERED_HINT } from "./call.js";
import { openBackend } from "./backend.js";
import { commandIo } from "./context.js";

export interface HealthArguments {
  service: string;
  timeout?: string;
  output: "text" | "json";
  [flag: string]: unknown;
}

export async function health(args: HealthArguments): Promise<void> {
  const timeout = durationFlag(args.timeout, "timeout") ?? 5000;
  const rt = await openBackend(args);
  await runCommand(async () => {
    const signal = commandIo().signal;
    const results = await checkHealth(rt.client, rt.registry, args.service, timeout, signal);
    // Cancelled (Ctrl-C at the prompt): every node would read "unreachable"; say what happened instead.
    if (signal?.aborted) throw new MicroError("micro.cli", 499, `health of ${args.service} cancelled (${String(signal.reason)})`);
    if (results.length === 0) throw MicroError.notFound("micro.cli", `service ${args.service} has no registered nodes: ${NOT_REGISTERED_HINT}`);
    if (args.output === "json") out(JSON.stringify(results, null, 2));
    else {
      out("NODE\tADDRESS\tVERSION\tSTATUS");
      for (const r of results) out(`${r.id}\t${r.address}\t${r.version}\t${r.status}${r.error ? ` (${r.error.detail})` : ""}`);
    }
    const bad = results.filter((r) => r.status !== "ok");
    if (bad.length > 0) throw new MicroError("micro.cli", 503, `${bad.length} of ${results.length} nodes of ${args.service} are not healthy`);
  }, rt.close);
}
