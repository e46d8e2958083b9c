/**
 * `micro api`: the gateway in this process until SIGINT/SIGTERM, then a graceful stop.
 */
import { newGateway, parseListenAddress } from "../../../api/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";
import { durationFlag, runCommand, untilStopSignal } from "./io.js";
import { openRuntime } from "./runtime.js";
import { tracingClientWrapper, tracingPublishWrapper } from "../../../runtime/tracing/index.js";
import { authOptionsFromFlags, type AuthFlags } from "./auth-flags.js";
import { serveMetrics } from "../../../runtime/metrics/serve.js";
import { Health, serveHealth } from "../../../runtime/health/index.js";
import type { AdminServer } from "../../../runtime/admin/http.js";

export interface ApiArguments extends AuthFlags {
  address: string;
  namespace: string;
  handler: "rpc" | "api" | "http" | "event";
  cors?: string;
  timeout?: string;
  max_body: number;
  tracing?: boolean;
  [flag: string]: unknown;
}

export async function runGateway(args: ApiArguments): Promise<void> {
  const timeout = durationFlag(args.timeout, "timeout");
  if (!Number.isInteger(args.max_body) || args.max_body <= 0) throw new UsageError("--max_body must be a positive number of bytes");
  try {
    parseListenAddress(args.address);
  } catch (error) {
    throw new UsageError(`--address: ${(error as Error).message}`);
  }
  const cors = args.cors === undefined ? undefined : args.cors.trim() === "*" || args.cors === "" ? true : args.cors.split(",").map((s) => s.trim()).filter(Boolean);
  const tracing = args.tracing === true;
  const rt = await openRuntime(args, {
    logs: "service",
    ...(tracing ? { wrappers: [tracingClientWrapper()], publishWrappers: [tracingPublishWrapper({ messagingSystem: String(args.broker ?? process.env.MICRO_BROKER ?? "direct") })] } : {}),
  });
  const auth = await authOptionsFromFlags(args);
  const health = new Health();
  await runCommand(async () => {
    const gateway = newGateway({
      client: rt.client,
      registry: rt.plugins.registry,
      address: args.address,
      namespace: args.namespace,
      handler: args.handler,
      cors,
      timeout,
      maxBody: args.max_body,
      tracing,
      ...(auth ? { auth } : {}),
      ...(rt.config.metrics_address ? { metrics: true } : {}),
    });
    // The operational endpoints: /metrics and /health/* (ready while the gateway listens and is not stopping).
    const admin: AdminServer[] = [];
    try {
      const metrics = rt.config.metrics_address ? await serveMetrics(rt.config.metrics_address) : undefined;
      if (metrics) admin.push(metrics);
      const probes = rt.config.health_address ? await serveHealth(rt.config.health_address, health) : undefined;
      if (probes) admin.push(probes);
      await gateway.start();
      // One line on stdout so scripts (and tests) learn the bound addresses.
      process.stdout.write(`${JSON.stringify({ event: "listening", address: gateway.address, handler: args.handler, ...(metrics ? { metrics: metrics.address } : {}), ...(probes ? { health: probes.address } : {}) })}\n`);
      await untilStopSignal();
      health.setDraining(true);
      await gateway.stop();
    } finally {
      await Promise.all(admin.map((a) => a.close()));
    }
  }, rt.close);
}
