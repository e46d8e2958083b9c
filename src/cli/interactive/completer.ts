/**
 * Tab completion at the prompt: the command word, then what each command takes next — `list services`,
 * `get service <service>`, `call|stream <service> <endpoint>`, `health <service>`, `help <command>`. Options
 * (`--output json`) are skipped when counting arguments. Service and endpoint names come from a
 * {@link CompletionSource}; a source that fails (registry down) completes nothing rather than erroring.
 */
import type { CompletionSource } from "./catalog.js";
import { completionWords } from "./tokenize.js";
import { PROMPT_COMMANDS } from "./commands.js";

/** Options that take no value (the others consume the next word). */
const FLAG_OPTIONS = new Set(["--all", "--help", "-h"]);

/** Readline's completion result: the candidates, and the text they replace. */
export type Completion = [string[], string];

/** The positional words of a command line, options and their values left out. */
function positionals(words: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith("-")) result.push(w);
    else if (!w.includes("=") && !FLAG_OPTIONS.has(w)) i++;
  }
  return result;
}

/** Candidates for the word after `args` (the positional words typed so far, the command first). */
async function candidates(args: readonly string[], source: CompletionSource): Promise<readonly string[]> {
  const [command, ...rest] = args;
  if (command === undefined) return PROMPT_COMMANDS;
  switch (`${command} ${rest.length}`) {
    case "help 0":
      return PROMPT_COMMANDS;
    case "list 0":
      return ["services"];
    case "get 0":
      return ["service"];
    case "get 1":
    case "call 0":
    case "stream 0":
    case "health 0":
      return source.services();
    case "call 1":
    case "stream 1":
      return source.endpoints(rest[0]!);
    default:
      return [];
  }
}

/**
 * A readline completer over `source`. One candidate is completed with a space after it, so the next word can
 * follow; several are listed by readline (and their common prefix filled in).
 */
export function createCompleter(source: CompletionSource, onError: (error: unknown) => void = () => undefined): (line: string) => Promise<Completion> {
  return async (line) => {
    const at = completionWords(line);
    if (at === undefined || at.current.startsWith("-")) return [[], at?.current ?? ""];
    const previous = at.words[at.words.length - 1];
    // The value of an option (`--output j`) is not a positional word.
    if (previous !== undefined && previous.startsWith("-") && !previous.includes("=") && !FLAG_OPTIONS.has(previous)) return [[], at.current];
    let all: readonly string[];
    try {
      all = await candidates(positionals(at.words), source);
    } catch (error) {
      onError(error);
      return [[], at.current];
    }
    const hits = all.filter((c) => c.startsWith(at.current));
    return [hits.length === 1 ? [`${hits[0]} `] : hits, at.current];
  };
}
