/**
 * `micro health <service>`: call `Debug.Health` on every node of a service.
 */
import type { CommandModule } from "yargs";
import type { HealthArguments } from "./lib/health.js";

export const healthCommand: CommandModule<object, HealthArguments> = {
  command: "health <service>",
  describe: "Check every node of a service (Debug.Health); exits 1 when a node is unhealthy",
  builder: (y) =>
    y
      .positional("service", { type: "string", demandOption: true, describe: "Service name" })
      .option("timeout", { type: "string", describe: "Per-node timeout, e.g. 2s (default 5s)" })
      .option("output", { choices: ["text", "json"] as const, default: "text" as const, describe: "A table, or JSON" })
      .example("$0 health greeter", "one line per node") as never,
  handler: async (args) => {
    const { health } = await import("./lib/health.js");
    await health(args);
  },
};
