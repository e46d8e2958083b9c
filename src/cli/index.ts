/**
 * The `micro` command line: the yargs root with help, version, shell completion, typo suggestions, the
 * global flags, and exit codes 0 (success), 1 (failure) and 2 (usage error).
 */
import { readFileSync } from "node:fs";
import yargs, { type Argv, type CommandModule } from "yargs";
import * as commands from "./commands/index.js";
import { globalOptions } from "./global-options.js";
import { UsageError } from "../runtime/errors/usage.js";
import { commandIo, ReportedCommandFailure } from "./commands/lib/context.js";
import { interactiveCommand } from "./interactive/command.js";

export { UsageError } from "../runtime/errors/usage.js";

/** Exit codes of `micro`. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Errors yargs raises for bad invocations carry `name === "YError"`. */
function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || (error instanceof Error && error.name === "YError");
}

/**
 * Build the yargs root for `args` (without the node and script paths). Nothing is parsed yet; `run` parses.
 * Failures are reported through `exit(code)` after the message has been written to stderr.
 */
export function buildCli(args: readonly string[], exit: (code: number) => void = (code) => void (process.exitCode = code)): Argv {
  let cli = yargs([...args])
    .scriptName("micro")
    .usage("$0 <command> [options]\n\nBuild, run and call micro-ts services.")
    .options(globalOptions)
    .group(Object.keys(globalOptions), "Global options:");
  for (const command of allCommands()) cli = cli.command(command);
  return cli
    .demandCommand(1, "Name a command; `micro --help` lists them.")
    .recommendCommands()
    .strict()
    .completion("completion", "Print a shell completion script (add it to ~/.bashrc or ~/.zshrc)")
    .version(packageVersion())
    .alias("help", "h")
    .alias("version", "v")
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      // Errors thrown by command handlers are reported once, by `run`.
      if (error && error.name !== "YError") throw error;
      let text = message ?? error?.message ?? "invalid usage";
      const first = args.find((a) => !a.startsWith("-"));
      if (text.startsWith("Did you mean")) text = `unknown command "${first ?? ""}". ${text}`;
      else if (first !== undefined && !commandNames().includes(first) && text.startsWith("Unknown argument")) {
        text = `unknown command "${first}"; the commands are: ${commandNames().join(", ")}`;
      }
      commandIo().stderr.write(`micro: ${text}\nRun \`micro --help\` for usage.\n`);
      exit(EXIT_USAGE);
      // Stop yargs from carrying on with the command after a reported failure.
      throw new ReportedFailure();
    });
}

/** Every command module: those of commands/, and `micro cli` (which runs them, so it is built here), by name. */
function allCommands(): CommandModule<any, any>[] {
  const all = [...(Object.values(commands) as CommandModule<any, any>[]), interactiveCommand(execute)];
  const name = (c: CommandModule<any, any>): string => String(c.command);
  return all.sort((a, b) => name(a).localeCompare(name(b)));
}

/** The first word of every command (`call`, `new`, …) and their aliases. */
function commandNames(): string[] {
  const names: string[] = [];
  for (const command of allCommands()) {
    const forms = [command.command, command.aliases].flat().filter((f): f is string => typeof f === "string");
    for (const form of forms) names.push(form.split(" ", 1)[0]!);
  }
  return names;
}

/** Thrown out of `fail` so parsing stops; already reported, so `run` swallows it. */
class ReportedFailure extends Error {}

/**
 * Run one `micro` command line and resolve with its exit code, leaving the process alone (no exit, no
 * `process.exitCode`): errors are written to the {@link commandIo} stderr. The interactive prompt runs each
 * line through this, inside `withCommandIo`.
 */
export async function execute(args: readonly string[]): Promise<number> {
  let code = EXIT_OK;
  const setCode = (c: number) => {
    code = c;
  };
  try {
    await buildCli(args, setCode).parseAsync();
  } catch (error) {
    if (error instanceof ReportedCommandFailure) return EXIT_FAILURE;
    if (!(error instanceof ReportedFailure)) {
      const usage = isUsageError(error);
      const stderr = commandIo().stderr;
      stderr.write(`micro: ${(error as Error)?.message ?? String(error)}\n`);
      if (usage) stderr.write("Run `micro --help` for usage.\n");
      else if (process.env.MICRO_DEBUG && (error as Error)?.stack) stderr.write(`${(error as Error).stack}\n`);
      code = usage ? EXIT_USAGE : EXIT_FAILURE;
    }
  }
  return code;
}

/**
 * Run `micro` with `args` and resolve with its exit code (also set on `process.exitCode`).
 */
export async function run(args: readonly string[]): Promise<number> {
  const code = await execute(args);
  process.exitCode = code;
  return code;
}
