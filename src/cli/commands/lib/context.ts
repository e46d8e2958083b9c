/**
 * Where a `micro` command writes, reads and learns that it should stop: its {@link CommandIo}. A one-shot
 * command runs with the process's own streams and no signal; the interactive prompt (`micro cli`) runs each
 * line inside {@link withCommandIo} with its own writers, no stdin (the prompt owns the terminal) and an
 * AbortSignal that Ctrl-C fires. Commands ask {@link commandIo} instead of touching `process.*`, so the same
 * code serves both; the context travels with the async call chain (AsyncLocalStorage), so a yargs handler
 * needs no extra argument.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** Something text is written to (a stream, or the prompt's gated writer). */
export interface TextSink {
  write(text: string): unknown;
}

/** The streams and cancel signal of one command run. */
export interface CommandIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Where `-` arguments and NDJSON stream requests come from; undefined where there is no stdin to read (the prompt). */
  readonly stdin?: NodeJS.ReadableStream;
  /** Fires to cancel the command (Ctrl-C at the prompt); calls and streams in flight end with a 499. Default: none. */
  readonly signal?: AbortSignal;
}

/** The process's streams; stdin is opened only when a command reads it (opening it has effects on a terminal). */
const PROCESS_IO: CommandIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  get stdin() {
    return process.stdin;
  },
};

const current = new AsyncLocalStorage<CommandIo>();

/** The IO of the command running now: the one given to {@link withCommandIo}, else the process's streams. */
export function commandIo(): CommandIo {
  return current.getStore() ?? PROCESS_IO;
}

/** Run `body` (and everything it starts) with `io` as its {@link commandIo}. */
export function withCommandIo<T>(io: CommandIo, body: () => Promise<T>): Promise<T> {
  return current.run(io, body);
}

/**
 * A command failed and has already printed its error (the MicroError JSON on stderr): the caller ends with
 * exit code 1 (one-shot) or shows the prompt again (interactive) without printing anything more.
 */
export class ReportedCommandFailure extends Error {
  constructor() {
    super("the command failed; its error has been printed");
    this.name = "ReportedCommandFailure";
  }
}
