/**
 * `micro cli`: the interactive prompt. Each entry runs through the one-shot entry (`execute` of cli/index.ts,
 * handed in by `command.ts`) with the prompt's streams and a Ctrl-C signal (commands/lib/context.ts), so the prompt's commands are the
 * `micro` commands themselves, with their flags, output and error shapes. Files: `session.ts` (the read-run
 * loop and its keys), `tokenize.ts` (quotes, JSON arguments, multi-line entries), `commands.ts` (what the
 * prompt runs), `completer.ts` + `catalog.ts` (Tab, from the registry), `history.ts` (~/.micro_history).
 */
import { globalOptions } from "../global-options.js";
import { openBackend } from "../commands/lib/backend.js";
import { RegistryCatalog } from "./catalog.js";
import { defaultHistoryPath, HistoryFile, DEFAULT_HISTORY_SIZE } from "./history.js";
import { runSession } from "./session.js";
import { UsageError } from "../../runtime/errors/usage.js";

/** The parsed arguments of `micro cli`: its own options and the global flags. */
export interface InteractiveArguments {
  /** History file (default `~/.micro_history`); an empty string keeps no file. */
  history_file?: string;
  /** Entries kept in the history (default {@link DEFAULT_HISTORY_SIZE}). */
  history_size?: number;
  [flag: string]: unknown;
}

/** The global flags given to `micro cli`, as `--name value` pairs for every command line of the session. */
function sessionFlags(args: InteractiveArguments): string[] {
  const pairs: string[] = [];
  for (const name of Object.keys(globalOptions)) {
    const value = args[name];
    if (value !== undefined && value !== null && value !== "") pairs.push(`--${name}`, String(value));
  }
  return pairs;
}

/** Run the prompt on the process's terminal until Ctrl-D or `exit`; `execute` runs one `micro` command line. */
export async function runInteractive(args: InteractiveArguments, execute: (argv: readonly string[]) => Promise<number>): Promise<void> {
  const size = args.history_size ?? DEFAULT_HISTORY_SIZE;
  if (!Number.isInteger(size) || size < 1) throw new UsageError(`--history_size ${String(args.history_size)} must be a whole number of entries, 1 or more`);
  const historyPath = args.history_file ?? defaultHistoryPath();
  // Completion reads the same registry the commands do: the plugins, or a sidecar's with --proxy_address.
  const rt = await openBackend(args);
  const catalog = new RegistryCatalog(rt.registry);
  try {
    await runSession({
      input: process.stdin,
      output: process.stdout,
      errors: process.stderr,
      execute,
      source: catalog,
      history: historyPath === "" ? undefined : new HistoryFile(historyPath, size),
      sessionFlags: sessionFlags(args),
    });
  } finally {
    await catalog.close();
    await rt.close();
  }
}
