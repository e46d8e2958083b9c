/**
 * `micro list services`: every service in the registry.
 */
import type { CommandModule } from "yargs";
import type { ListArguments } from "./lib/registry-view.js";

export const listCommand: CommandModule<object, ListArguments> = {
  command: "list <resource>",
  describe: "List services in the registry",
  builder: (y) =>
    y
      .positional("resource", { choices: ["services"] as const, demandOption: true, describe: "What to list" })
      .option("all", { type: "boolean", default: false, describe: "Include the direct broker's internal micro.broker.<topic> entries" })
      .option("output", { choices: ["text", "json"] as const, default: "text" as const, describe: "One name per line, or JSON" })
      .example("$0 list services", "the names of the registered services") as never,
  handler: async (args) => {
    const { listServices } = await import("./lib/registry-view.js");
    await listServices(args);
  },
};
