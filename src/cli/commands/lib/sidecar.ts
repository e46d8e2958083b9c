/**
 * `micro sidecar`: the sidecar in this process until SIGINT/SIGTERM, then the app is deregistered and the
 * server stops gracefully.
 */
import { parseListenAddress } from "../../../api/index.js";
import { MicroError } from "../../../runtime/errors/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";
import { newSidecar, parseAppSubscription, type AppSubscription } from "../../../sidecar/index.js";
import { durationFlag, runCommand, untilStopSignal } from "./io.js";
import { openRuntime } from "./runtime.js";

export interface SidecarArguments {
  address: string;
  app_name?: string;
  app_version?: string;
  app_address?: string;
  app_health?: string;
  app_endpoints?: string[];
  app_subscribe?: string[];
  health_interval?: string;
  app_timeout?: string;
  timeout?: string;
  [flag: string]: unknown;
}

/** A MicroError 400 from a library check as a usage error (exit 2). */
function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof MicroError && error.code === 400) throw new UsageError(error.detail);
    throw error;
  }
}

export async function runSidecar(args: SidecarArguments): Promise<void> {
  const healthInterval = durationFlag(args.health_interval, "health_interval");
  const appTimeout = durationFlag(args.app_timeout, "app_timeout");
  const timeout = durationFlag(args.timeout, "timeout");
  usage(() => parseListenAddress(args.address));
  if (args.app_health !== undefined && !/^https?:\/\/./.test(args.app_health)) throw new UsageError(`--app_health "${args.app_health}": use a URL, e.g. http://127.0.0.1:5000/health`);
  const endpoints = (args.app_endpoints ?? []).flatMap((e) => e.split(",")).map((e) => e.trim()).filter(Boolean);
  const subscribe: AppSubscription[] = (args.app_subscribe ?? []).map((s) => usage(() => parseAppSubscription(s)));
  const rt = await openRuntime(args, { logs: "service" });
  await runCommand(async () => {
    const sidecar = usage(() =>
      newSidecar({
        client: rt.client,
        registry: rt.plugins.registry,
        transport: rt.plugins.transport,
        broker: rt.plugins.broker,
        address: args.address,
        appName: args.app_name,
        appVersion: args.app_version,
        appAddress: args.app_address,
        appHealth: args.app_health,
        appEndpoints: endpoints,
        appSubscribe: subscribe,
        healthInterval,
        appTimeout,
        timeout,
        serverAddress: rt.config.server_address,
        advertise: rt.config.server_advertise,
        registerTTL: rt.config.register_ttl,
        registerInterval: rt.config.register_interval,
      }),
    );
    await sidecar.start();
    // One line on stdout so scripts (and tests) learn the bound address.
    process.stdout.write(`${JSON.stringify({ event: "listening", address: sidecar.address, app: args.app_name ?? null })}\n`);
    await untilStopSignal();
    await sidecar.stop();
    process.stdout.write(`${JSON.stringify({ event: "stopped" })}\n`);
  }, rt.close);
}
