/**
 * `micro get service <name>`: a service's versions, nodes and endpoints.
 */
import type { CommandModule } from "yargs";
import type { GetArguments } from "./lib/registry-view.js";

export const getCommand: CommandModule<object, GetArguments> = {
  command: "get <resource> <name>",
  describe: "Show a service: versions, nodes (id, address, metadata) and endpoints with their fields",
  builder: (y) =>
    y
      .positional("resource", { choices: ["service"] as const, demandOption: true, describe: "What to get" })
      .positional("name", { type: "string", demandOption: true, describe: "Service name" })
      .option("output", { choices: ["text", "json"] as const, default: "text" as const, describe: "Readable text, or the registry records as JSON" })
      .example("$0 get service greeter", "nodes and endpoints of greeter") as never,
  handler: async (args) => {
    const { getService } = await import("./lib/registry-view.js");
    await getService(args);
  },
};
