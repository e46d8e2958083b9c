/**
 * Helpers for the command line and gateway tests: real service processes (compiled fixtures under
 * build/test/fixtures/cli) and the real `micro` bin (dist/micro.js), all on loopback, each test file with
 * its own local-registry directory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** One JSON event a fixture printed on stdout. */
export type Event = Record<string, unknown> & { event: string };

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
      this.stderr = (this.stderr + chunk).slice(-1_000_000);
      for (const w of [...this.stderrWaiters]) if (this.stderr.includes(w.text)) w.resolve();
    });
    this.exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** The first event (seen or to come) that matches; rejects after `ms`, or when the process exits first. */
  waitFor(pred: (e: Event) => boolean, ms = 15_000): Promise<Event> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for an event; saw ${JSON.stringify(this.events)}; stderr: ${this.stderr.slice(-2000)}`)), ms);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`process exited (${code ?? signal}) before the event; saw ${JSON.stringify(this.events)}; stderr: ${this.stderr.slice(-2000)}`));
      });
    });
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
        reject(new Error(`timed out waiting for ${JSON.stringify(text)} on stderr: ${this.stderr.slice(-2000)}`));
      }, ms);
      this.stderrWaiters.push(entry);
    });
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}

/** The compiled `micro` bin. */
export const MICRO_BIN = fileURLToPath(new URL("../../../dist/micro.js", import.meta.url));

export interface Env {
  [key: string]: string;
}

/** A fresh local-registry directory and the environment that points processes at it. */
export function testEnv(): { env: Env; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "micro-cli-test-"));
  return {
    env: { MICRO_REGISTRY: "local", MICRO_REGISTRY_ADDRESS: dir, MICRO_BROKER: "direct", MICRO_LOG_LEVEL: "silent" },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Start a fixture of test/fixtures/cli and wait for its `ready` event. */
export async function startFixture(name: string, env: Env, args: readonly string[] = [], nodeArgs: readonly string[] = []): Promise<{ proc: Fixture; address: string }> {
  const file = fileURLToPath(new URL(`../fixtures/cli/${name}.js`, import.meta.url));
  const child = spawn(process.execPath, [...nodeArgs, file, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const proc = new Fixture(child);
  const ready = await proc.waitFor((e) => e.event === "ready");
  return { proc, address: String(ready.address) };
}

/** Start `micro api` and wait for it to print the address it listens on. */
export async function startGateway(env: Env, args: readonly string[] = []): Promise<{ proc: Fixture; url: string }> {
  const child = spawn(process.execPath, [MICRO_BIN, "api", "--address", "127.0.0.1:0", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const proc = new Fixture(child);
  const ready = await proc.waitFor((e) => e.event === "listening");
  return { proc, url: `http://${String(ready.address)}` };
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `micro <args>` to completion (killed after 30 s), optionally feeding stdin. */
export function micro(args: readonly string[], env: Env, stdin?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [MICRO_BIN, ...args], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(stdin ?? "");
  });
}

/** Stop a process: SIGTERM, then SIGKILL if it has not exited within 5 s. */
export async function stop(proc: Fixture | undefined): Promise<void> {
  if (!proc) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await proc.exited;
  clearTimeout(timer);
}
