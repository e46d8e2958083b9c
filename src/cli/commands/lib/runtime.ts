/**
 * The runtime a `micro` command runs on: the plugins named by the global flags and MICRO_* variables
 * (registry, transport, broker, selector) and a client over them. Closed when the command ends.
 */
import { disconnectBroker } from "../../../runtime/broker/connect.js";
import { newClient, type ClientWrapper, type PublishWrapper, type RpcClient } from "../../../runtime/client/index.js";
import { checkPluginAddresses, checkPluginNames, globalFlags, readConfig, peerTransport, resolvePlugins, transportOptionsFrom, type ConfigValues, type Plugins } from "../../../runtime/config/index.js";
import { MicroError } from "../../../runtime/errors/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";
import { setLogLevel } from "../../../runtime/logger/index.js";

export interface CliRuntime {
  readonly plugins: Plugins;
  readonly client: RpcClient;
  readonly config: ConfigValues;
  /** Release connections, timers and files. */
  close(): Promise<void>;
}

/** The global flags yargs parsed, turned back into argv for the runtime's own reader (so env and flags combine alike). */
export function configFrom(args: Record<string, unknown>): ConfigValues {
  const argv: string[] = [];
  for (const flag of globalFlags) {
    const v = args[flag.name];
    if (v !== undefined && v !== null && v !== "") argv.push(`--${flag.name}`, String(v));
  }
  return readConfig(argv, process.env);
}

/**
 * Check the global flags: a malformed value, an unknown plugin name or a malformed plugin address is a usage
 * error (exit 2), reported
 * before anything is loaded or dialled.
 */
function checkedConfig(args: Record<string, unknown>): ConfigValues {
  try {
    const config = configFrom(args);
    checkPluginNames(config);
    checkPluginAddresses(config);
    transportOptionsFrom(config); // TLS files that cannot be read are a usage error too
    return config;
  } catch (error) {
    if (error instanceof MicroError && error.code === 400) throw new UsageError(error.detail);
    throw error;
  }
}

/**
 * Build the plugins and a client. A one-shot command logs only errors unless MICRO_LOG_LEVEL says otherwise:
 * its answer (or its error as JSON) is the output, and the plugins' warnings (an etcd watch reconnecting)
 * would interleave with it. `micro api` (`logs: "service"`) logs as a service does.
 * @throws UsageError for a bad global flag.
 */
export async function openRuntime(
  args: Record<string, unknown>,
  options: { logs?: "command" | "service"; wrappers?: readonly ClientWrapper[]; publishWrappers?: readonly PublishWrapper[] } = {},
): Promise<CliRuntime> {
  const config = checkedConfig(args);
  if ((options.logs ?? "command") === "command" && !process.env.MICRO_LOG_LEVEL) setLogLevel("error");
  const plugins = await resolvePlugins(config);
  const client = newClient({
    deps: { selector: plugins.selector, transport: plugins.transport, broker: plugins.broker },
    retries: config.client_retries,
    requestTimeout: config.client_request_timeout,
    poolSize: config.client_pool_size,
    wrappers: options.wrappers,
    publishWrappers: options.publishWrappers,
    // Nodes on another transport than this command's (a grpc node seen by a tcp client) are called over theirs,
    // with the same TLS material.
    transportFor: (name) => peerTransport(name, transportOptionsFrom(config)),
  });
  let closed = false;
  return {
    plugins,
    client,
    config,
    async close() {
      if (closed) return;
      closed = true;
      client.close();
      await disconnectBroker(plugins.broker).catch(() => undefined);
      await plugins.selector.close().catch(() => undefined);
      await plugins.registry.close().catch(() => undefined);
    },
  };
}
