/**
 * `micro cli`: an interactive prompt running the `micro` commands, with completion and history. The prompt
 * lives in src/cli/interactive/, loaded on use.
 */
import type { CommandModule } from "yargs";
import type { InteractiveArguments } from "../interactive/index.js";

export const cliCommand: CommandModule<object, InteractiveArguments> = {
  command: "cli",
  describe: "Open an interactive prompt: call, stream, list, get, publish, health with Tab completion and history",
  builder: (y) =>
    y
      .option("history_file", { type: "string", describe: "History file; \"\" keeps none (default ~/.micro_history)" })
      .option("history_size", { type: "number", describe: "Entries kept in the history (default 1000)" })
      .example("$0 cli", "then: call greeter Greeter.Hello {\"name\": \"John\"}") as never,
  handler: async (args) => {
    const { runInteractive } = await import("../interactive/index.js");
    await runInteractive(args);
  },
};
