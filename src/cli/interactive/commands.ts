/**
 * The prompt's commands: the one-shot commands that make sense in a session (`call`, `get`, `health`, `list`,
 * `publish`, `stream`) plus `help` and `exit`, and how an entry's words become a `micro` command line: the
 * session's global flags (`micro cli --registry etcd …`) are added unless the entry sets them itself.
 */
import type { CommandModule } from "yargs";
import * as commands from "../commands/index.js";

/** One-shot commands the prompt runs, through the same code as `micro <command>`. */
export const RUNNABLE = ["call", "get", "health", "list", "publish", "stream"] as const;

/** Every word the prompt knows first, in the order `help` and Tab list them. */
export const PROMPT_COMMANDS: readonly string[] = [...RUNNABLE, "help", "exit"];

/** What an entry asks for. */
export type Entry =
  | { readonly kind: "empty" }
  | { readonly kind: "exit" }
  | { readonly kind: "help"; readonly topic?: string }
  | { readonly kind: "run"; readonly argv: readonly string[] }
  | { readonly kind: "refuse"; readonly message: string };

const modules = commands as unknown as Record<string, CommandModule>;

/** Whether `argv` sets `--flag` (as `--flag v` or `--flag=v`). */
function sets(argv: readonly string[], flag: string): boolean {
  return argv.some((a) => a === flag || a.startsWith(`${flag}=`));
}

/**
 * Classify an entry's words. `sessionFlags` are `--name value` pairs given to `micro cli`; each is added to a
 * command line that does not set that flag itself.
 */
export function classify(words: readonly string[], sessionFlags: readonly string[] = []): Entry {
  const [first, ...rest] = words;
  if (first === undefined) return { kind: "empty" };
  if (first === "exit" || first === "quit") return { kind: "exit" };
  if (first === "help" || first === "--help" || first === "-h" || first === "?") return rest[0] === undefined ? { kind: "help" } : { kind: "help", topic: rest[0] };
  if ((RUNNABLE as readonly string[]).includes(first)) {
    const argv = [...words];
    for (let i = 0; i + 1 < sessionFlags.length; i += 2) if (!sets(argv, sessionFlags[i]!)) argv.push(sessionFlags[i]!, sessionFlags[i + 1]!);
    return { kind: "run", argv };
  }
  const known = Object.hasOwn(modules, first) || first === "cli" || first === "completion";
  const list = PROMPT_COMMANDS.join(", ");
  return {
    kind: "refuse",
    message: known ? `\`${first}\` is not available at the prompt: run \`micro ${first}\` from a shell; the prompt's commands are: ${list}` : `unknown command "${first}"; the commands are: ${list}`,
  };
}

/** The text `help` prints: each command with its usage and description, then the keys. */
export function helpText(): string {
  const rows: [string, string][] = RUNNABLE.map((name) => {
    const m = modules[name]!;
    return [String(m.command), String(m.describe)];
  });
  rows.push(["help [command]", "This list, or a command's options (help call)"], ["exit", "Leave the prompt (or Ctrl-D)"]);
  const width = Math.max(...rows.map(([u]) => u.length));
  return [
    "Commands:",
    ...rows.map(([usage, describe]) => `  ${usage.padEnd(width)}  ${describe}`),
    "",
    "Tab completes commands, services and endpoints. JSON needs no quotes and may span lines until its braces",
    "balance. Up/Down recall history (~/.micro_history). Ctrl-C cancels the running command or clears the line;",
    "Ctrl-D or `exit` leaves.",
  ].join("\n");
}
