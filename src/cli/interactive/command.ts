/**
 * `micro cli`: the yargs module of the interactive prompt. It is not in commands/ because it runs the other
 * commands: the root (cli/index.ts) builds it with its own `execute`, so nothing here imports the root and the
 * prompt's code (./index.ts) is loaded only when the command runs.
 */
import type { CommandModule } from "yargs";
import type { InteractiveArguments } from "./index.js";

/** The `micro cli` command, running each entry through `execute` (one `micro` command line → its exit code). */
export function interactiveCommand(execute: (argv: readonly string[]) => Promise<number>): CommandModule<object, InteractiveArguments> {
  return {
    command: "cli",
    describe: "Open an interactive prompt: call, stream, list, get, publish, health with Tab completion and history",
    builder: (y) =>
      y
        .option("history_file", { type: "string", describe: "History file; \"\" keeps none (default ~/.micro_history)" })
        .option("history_size", { type: "number", describe: "Entries kept in the history (default 1000)" })
        .example("$0 cli", 'then: call greeter Greeter.Hello {"name": "John"}') as never,
    handler: async (args) => {
      const { runInteractive } = await import("./index.js");
      await runInteractive(args, execute);
    },
  };
}
