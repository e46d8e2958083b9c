/**
 * Child processes for tests: compiled fixtures and bins run with plain `node`, their stdout read as JSON
 * events (one per line), their stderr kept for error messages. Shared by the runtime harness
 * (test/fixtures/runtime/harness.ts) and the command line helpers (test/cli/support.ts).
 */
import { spawn, type ChildProcess } from "node:child_process";

/** One JSON event a process printed on stdout; a line that is not JSON is `{ event: "text", text }`. */
export type Event = Record<string, unknown> & { event: string };

/** How much of stderr a {@link Fixture} keeps (the end), and how much of it an error message quotes. */
const STDERR_KEPT = 1_000_000;
const STDERR_QUOTED = 2000;

/** A spawned process whose stdout is read as JSON events, one per line; stderr is kept (the last 1 MB). */
export class Fixture {
  readonly events: Event[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = "";
  private waiters: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  private stderrWaiters: { text: string; resolve: () => void }[] = [];

  constructor(readonly proc: ChildProcess) {
    let buffer = "";
    proc.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (!line.trim()) continue;
        let e: Event;
        try {
          e = JSON.parse(line) as Event;
        } catch {
          e = { event: "text", text: line };
        }
        this.events.push(e);
        this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
      }
    });
    proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEPT);
      for (const w of [...this.stderrWaiters]) if (this.stderr.includes(w.text)) w.resolve();
    });
    this.exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** The first event (seen or to come) that matches; rejects after `ms`, or when the process exits first. */
  waitFor(pred: (e: Event) => boolean, ms = 15_000): Promise<Event> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for an event; saw ${JSON.stringify(this.events)}; stderr: ${this.stderr.slice(-STDERR_QUOTED)}`)), ms);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`process exited (${code ?? signal}) before the event; saw ${JSON.stringify(this.events)}; stderr: ${this.stderr.slice(-STDERR_QUOTED)}`));
      });
    });
  }

  /**
   * Wait for a start-up event (default 60 s: starting a process on a loaded machine is slow). When it does not
   * come, the process is killed before the error is thrown, so a failed start never leaks a process that would
   * keep the test file from ending.
   */
  async started(pred: (e: Event) => boolean, ms = 60_000): Promise<Event> {
    try {
      return await this.waitFor(pred, ms);
    } catch (error) {
      this.kill("SIGKILL");
      throw error;
    }
  }

  /** Resolves once stderr contains `text`; rejects after `ms`. */
  waitForStderr(text: string, ms = 15_000): Promise<void> {
    if (this.stderr.includes(text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const entry = {
        text,
        resolve: () => {
          clearTimeout(timer);
          this.stderrWaiters = this.stderrWaiters.filter((w) => w !== entry);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.stderrWaiters = this.stderrWaiters.filter((w) => w !== entry);
        reject(new Error(`timed out waiting for ${JSON.stringify(text)} on stderr: ${this.stderr.slice(-STDERR_QUOTED)}`));
      }, ms);
      this.stderrWaiters.push(entry);
    });
  }

  /** Send `signal` (default SIGKILL) unless the process has already exited. */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}

/**
 * Run `node <args>` (a compiled script and its arguments) with `env` over this process's environment, as a
 * {@link Fixture}. `ipc` adds an IPC channel (for fixtures that take messages from the test).
 */
export function spawnNode(args: readonly string[], env: Readonly<Record<string, string>> = {}, options: { ipc?: boolean } = {}): Fixture {
  const stdio: ("ignore" | "pipe" | "ipc")[] = ["ignore", "pipe", "pipe", ...(options.ipc ? (["ipc"] as const) : [])];
  return new Fixture(spawn(process.execPath, [...args], { env: { ...process.env, ...env }, stdio }));
}


/** Stop a process: SIGTERM, then SIGKILL if it has not exited within 5 s. */
export async function stop(proc: Fixture | undefined): Promise<void> {
  if (!proc) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await proc.exited;
  clearTimeout(timer);
}
