/**
 * `micro api`: the gateway in this process until SIGINT/SIGTERM, then a graceful stop.
 */
import { newGateway, parseListenAddress } from "../../../api/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";
import { durationFlag, runCommand, untilStopSignal } from "./io.js";
import { openRuntime } from "./runtime.js";

export interface ApiArguments {
  address: string;
  namespace: string;
  handler: "rpc" | "api" | "http" | "event";
  cors?: string;
  timeout?: string;
  max_body: number;
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
  const rt = await openRuntime(args, { logs: "service" });
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
    });
    await gateway.start();
    // One line on stdout so scripts (and tests) learn the bound address.
    process.stdout.write(`${JSON.stringify({ event: "listening", address: gateway.address, handler: args.handler })}\n`);
    await untilStopSignal();
    await gateway.stop();
  }, rt.close);
}
