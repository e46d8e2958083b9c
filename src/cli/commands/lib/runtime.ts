/**
 * The runtime a `micro` command runs on: the plugins named by the global flags and MICRO_* variables
 * (registry, transport, broker, selector) and a client over them. Closed when the command ends.
 */
import { disconnectBroker } from "../../../runtime/client/broker-connect.js";
import { newClient, type RpcClient } from "../../../runtime/client/index.js";
import { globalFlags, readConfig, resolvePlugins, type ConfigValues, type Plugins } from "../../../runtime/config/index.js";

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

/** Build the plugins and a client. */
export async function openRuntime(args: Record<string, unknown>): Promise<CliRuntime> {
  const config = configFrom(args);
  const plugins = await resolvePlugins(config);
  const client = newClient({
    deps: { selector: plugins.selector, transport: plugins.transport, broker: plugins.broker },
    retries: config.client_retries,
    requestTimeout: config.client_request_timeout,
    poolSize: config.client_pool_size,
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
