/**
 * `micro web`: the dashboard in this process until SIGINT/SIGTERM, then a graceful stop.
 */
import { parseListenAddress } from "../../../api/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";
import { isLoopbackHost, newWebDashboard, type AuthKind } from "../../../web/index.js";
import { durationFlag, runCommand, untilStopSignal } from "./io.js";
import { openRuntime } from "./runtime.js";

/** The flags of `micro web` (with the global flags). */
export interface WebArguments {
  address: string;
  namespace: string;
  auth: AuthKind;
  auth_token?: string;
  auth_basic?: string;
  timeout?: string;
  [flag: string]: unknown;
}

/** Run the dashboard until SIGINT/SIGTERM. @throws UsageError for a bad --address, --timeout or --auth basic without a pair */
export async function runWeb(args: WebArguments): Promise<void> {
  const timeout = durationFlag(args.timeout, "timeout");
  let host: string;
  try {
    host = parseListenAddress(args.address).host;
  } catch (error) {
    throw new UsageError(`--address: ${(error as Error).message}`);
  }
  const token = args.auth_token ?? process.env.MICRO_WEB_AUTH_TOKEN;
  const basic = args.auth_basic ?? process.env.MICRO_WEB_AUTH_BASIC;
  if (args.auth === "basic" && !/^[^:]+:.+$/.test(basic ?? "")) throw new UsageError("--auth basic needs --auth_basic user:password (or MICRO_WEB_AUTH_BASIC)");
  if (args.auth === "none" && !isLoopbackHost(host)) {
    process.stderr.write(`micro web: warning: listening on ${args.address} (not loopback) without --auth: anyone who can reach it can call your services; add --auth token or --auth basic\n`);
  }
  const rt = await openRuntime(args, { logs: "service" });
  await runCommand(async () => {
    const web = newWebDashboard({
      client: rt.client,
      registry: rt.plugins.registry,
      broker: rt.plugins.broker,
      address: args.address,
      namespace: args.namespace,
      auth: { kind: args.auth, token, basic },
      timeout,
    });
    await web.start();
    const event: Record<string, unknown> = { event: "listening", address: web.address, url: web.url, auth: web.auth.kind };
    if (web.auth.kind === "token") {
      event.open = `${web.url}/?token=${web.auth.token}`;
      if (!token) {
        event.token = web.auth.token;
        process.stderr.write(`micro web: generated token ${web.auth.token}; open ${String(event.open)}\n`);
      }
    }
    // One line on stdout so scripts (and tests) learn the bound address (and the token).
    process.stdout.write(`${JSON.stringify(event)}\n`);
    await untilStopSignal();
    await web.stop();
  }, rt.close);
}
