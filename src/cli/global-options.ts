/**
 * The global flags every `micro` command accepts, as yargs options. They come from the runtime's own flag
 * table (src/runtime/config), so the command line and a service's `service.init()` spell and mean them the
 * same way; each can also be set through its MICRO_* environment variable. `--proxy_address` is the command
 * line's own (commands/lib/backend.ts).
 */
import type { Options } from "yargs";
import { globalFlags } from "../runtime/config/index.js";

/** yargs option definitions for the global flags, keyed by flag name. */
export const globalOptions: Record<string, Options> = {
  ...Object.fromEntries(
    globalFlags.map((flag) => [
      flag.name,
      {
        type: flag.type === "number" ? "number" : "string",
        // No yargs default: the runtime applies defaults after the environment, which must be able to win.
        describe: `${flag.description} (env ${flag.env}${flag.default !== undefined ? `, default ${flag.default}` : ""})`,
      } satisfies Options,
    ]),
  ),
  // The command line's own: a sidecar to go through instead of the registry and transport.
  proxy_address: {
    type: "string",
    describe: "Talk to the registry, services and broker through the sidecar (micro sidecar) at host:port instead of directly (env MICRO_PROXY_ADDRESS)",
  },
};
