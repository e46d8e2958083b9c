/**
 * The prompt's read-run loop over node:readline. Entries run one at a time, in the order they were typed
 * (lines typed while a command runs wait their turn, as a shell's type-ahead does); an entry whose quote or
 * JSON is still open continues on the next line under the `... ` prompt.
 *
 * Keys:
 * - Ctrl-C while a command runs cancels it (its AbortSignal fires: calls and streams end with a 499 error,
 *   printed like any error) and drops the type-ahead; the prompt returns. A command that does not end within
 *   `settleMs` of the cancel is left to finish in the background with its output dropped.
 * - Ctrl-C at the prompt clears the line (or the unfinished multi-line entry). On an empty prompt it only says
 *   how to leave: Ctrl-C never ends the session, however often it is pressed, so a habit of pressing it twice
 *   cannot close a session by surprise. At a terminal, a SIGINT sent to the process (`kill -INT`) is treated
 *   the same way; with piped input it ends the process as usual.
 * - Ctrl-D on an empty line (or the end of piped input) and `exit` end the session once the running command,
 *   if any, has finished; the session itself always ends with exit code 0.
 */
import { createInterface, type Interface } from "node:readline";
import { withCommandIo, type TextSink } from "../commands/lib/context.js";
import type { CompletionSource } from "./catalog.js";
import { classify, helpText } from "./commands.js";
import { createCompleter } from "./completer.js";
import { DEFAULT_HISTORY_SIZE, type HistoryFile } from "./history.js";
import { tokenize } from "./tokenize.js";

/** The main prompt and the continuation prompt of a multi-line entry. */
export const PROMPT = "micro> ";
export const CONTINUATION_PROMPT = "... ";

/** Default of {@link SessionOptions.settleMs}. */
export const DEFAULT_SETTLE_MS = 2000;

export interface SessionOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** Where errors go (the commands' stderr). */
  readonly errors: NodeJS.WritableStream;
  /** Runs one `micro` command line (the one-shot entry, `execute` of cli/index.ts) and resolves with its exit code. */
  readonly execute: (argv: readonly string[]) => Promise<number>;
  /** Names for Tab completion. */
  readonly source: CompletionSource;
  /** Where history is kept; none: history lives only as long as the session. */
  readonly history?: HistoryFile;
  /** `--name value` pairs added to every command line that does not set the flag (the session's global flags). */
  readonly sessionFlags?: readonly string[];
  /** Milliseconds a cancelled command gets to end before the prompt returns without it (default {@link DEFAULT_SETTLE_MS}). */
  readonly settleMs?: number;
  /** Reports a problem of the session itself (history file, completion), once per kind. */
  readonly warn?: (message: string) => void;
}

/** readline keeps its history here (newest first); not in its typings. */
type WithHistory = Interface & { history: string[] };

/** A command being run: its cancel, and whether its output still reaches the terminal. */
interface Running {
  readonly controller: AbortController;
  live: boolean;
}

/** Run the prompt until Ctrl-D, `exit` or the end of the input. */
export function runSession(options: SessionOptions): Promise<void> {
  const warned = new Set<string>();
  const warn = (kind: string, message: string): void => {
    if (warned.has(kind)) return;
    warned.add(kind);
    (options.warn ?? ((m) => options.errors.write(`micro: ${m}\n`)))(message);
  };
  const complete = createCompleter(options.source, (error) => warn("completion", `completion cannot read the registry: ${(error as Error)?.message ?? String(error)}`));
  const historySize = options.history?.size ?? DEFAULT_HISTORY_SIZE;
  let loaded: string[] = [];
  try {
    loaded = options.history?.load() ?? [];
  } catch (error) {
    warn("history", `cannot read the history file ${options.history?.path}: ${(error as Error).message}`);
  }
  const rl = createInterface({
    input: options.input,
    output: options.output,
    prompt: PROMPT,
    history: loaded,
    historySize,
    removeHistoryDuplicates: true,
    completer: (line: string, callback: (error: Error | null, result?: [string[], string]) => void) => {
      complete(line).then((result) => callback(null, result), callback);
    },
  }) as WithHistory;

  const queue: string[] = [];
  let pending: string[] = [];
  let running: Running | undefined;
  let pumping = false;
  let closing = false;
  let finished: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  const prompt = (): void => {
    if (!rl.terminal || closing) return;
    rl.setPrompt(pending.length > 0 ? CONTINUATION_PROMPT : PROMPT);
    rl.prompt();
  };

  /**
   * Take the lines of a multi-line entry off the top of readline's history, where it put them one by one (it
   * skips blank lines and drops an older duplicate, so fewer may be there).
   */
  const dropFragments = (lines: readonly string[]): void => {
    const fragments = new Set(lines.filter((l) => l.trim() !== ""));
    let n = 0;
    while (n < fragments.size && fragments.has(rl.history[n]!)) n++;
    rl.history.splice(0, n);
  };

  /** Keep a multi-line entry as one history line when that reads the same (JSON spacing only); save the file. */
  const remember = (lines: readonly string[], words: readonly string[]): void => {
    if (!rl.terminal) return;
    if (lines.length > 1) {
      // Line breaks as spaces: the same arguments unless a break sat inside a quote (then the lines stay apart).
      const joined = lines.join(" ");
      if (JSON.stringify(tokenize(joined)) === JSON.stringify(words)) {
        dropFragments(lines);
        const older = rl.history.filter((e) => e !== joined);
        rl.history.splice(0, rl.history.length, joined, ...older.slice(0, historySize - 1));
      }
    }
    if (!options.history) return;
    try {
      options.history.save(rl.history);
    } catch (error) {
      warn("history", `cannot write the history file ${options.history.path}: ${(error as Error).message}`);
    }
  };

  const runCommand = async (argv: readonly string[]): Promise<void> => {
    const job: Running = { controller: new AbortController(), live: true };
    const gate = (sink: NodeJS.WritableStream): TextSink => ({ write: (text: string) => job.live && sink.write(text) });
    running = job;
    const io = { stdout: gate(options.output), stderr: gate(options.errors), signal: job.controller.signal };
    const result = withCommandIo(io, () => options.execute(argv)).catch((error: unknown) => {
      io.stderr.write(`micro: ${(error as Error)?.message ?? String(error)}\n`);
    });
    const cancelled = new Promise<void>((resolve) => job.controller.signal.addEventListener("abort", () => resolve(), { once: true }));
    await Promise.race([result, cancelled]);
    if (job.controller.signal.aborted) {
      let timer: NodeJS.Timeout | undefined;
      const settled = await Promise.race([result.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.settleMs ?? DEFAULT_SETTLE_MS)))]);
      clearTimeout(timer);
      if (!settled) options.errors.write("micro: the cancelled command has not ended yet; it finishes in the background and its output is dropped\n");
    }
    job.live = false;
    running = undefined;
  };

  const handle = async (line: string): Promise<void> => {
    pending.push(line);
    const words = tokenize(pending.join("\n"));
    if (words === undefined) return; // a quote or JSON is still open: read on
    const lines = pending;
    pending = [];
    if (words.length > 0) remember(lines, words);
    const entry = classify(words, options.sessionFlags);
    switch (entry.kind) {
      case "empty":
        return;
      case "exit":
        closing = true;
        queue.length = 0;
        rl.close();
        return;
      case "help":
        if (entry.topic === undefined) options.output.write(`${helpText()}\n`);
        else await runCommand([entry.topic, "--help"]);
        return;
      case "refuse":
        options.errors.write(`micro: ${entry.message}\n`);
        return;
      case "run":
        await runCommand(entry.argv);
    }
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    while (queue.length > 0) await handle(queue.shift()!);
    pumping = false;
    if (!closing) return prompt();
    if (pending.length > 0) options.errors.write(`micro: the input ended inside an unfinished entry (an open quote or JSON); it was not run\n`);
    process.off("SIGINT", interrupt);
    finished();
  };

  const interrupt = (): void => {
    if (running) {
      queue.length = 0;
      if (rl.terminal) options.output.write("^C\n");
      running.controller.abort("Ctrl-C");
      return;
    }
    if (closing) return;
    const hadInput = pending.length > 0 || rl.line.length > 0;
    // The lines of a dropped multi-line entry leave the history with it.
    if (rl.terminal) dropFragments(pending);
    pending = [];
    if (rl.terminal) {
      options.output.write(hadInput ? "^C\n" : "^C (Ctrl-D or `exit` leaves the prompt)\n");
      // Empty readline's own line buffer: to its end, then delete everything before the cursor.
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
    }
    prompt();
  };

  rl.on("line", (line) => {
    queue.push(line);
    void pump();
  });
  rl.on("SIGINT", interrupt);
  // At a terminal a SIGINT (kill -INT, or Ctrl-C once readline has let go of the terminal after Ctrl-D) is a
  // Ctrl-C. Piped input is a script: there SIGINT ends the process, as it ends any program.
  if (rl.terminal) process.on("SIGINT", interrupt);
  rl.on("close", () => {
    if (rl.terminal && !closing) options.output.write("\n");
    closing = true;
    void pump();
  });
  prompt();
  return done;
}
