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
import { spawnNode, type Fixture } from "../support/process.js";

export { Fixture, stop, type Event } from "../support/process.js";

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

/**
 * Wait for a started process's event (30 s: starting a process on a loaded machine can take many seconds); a
 * process that never gets there is killed, so that it cannot keep the test file from ending.
 */
async function started(proc: Fixture, event: string): Promise<Record<string, unknown>> {
  try {
    return await proc.waitFor((e) => e.event === event, 30_000);
  } catch (error) {
    proc.kill();
    throw error;
  }
}

/** Start a fixture of test/fixtures/cli and wait for its `ready` event. */
export async function startFixture(name: string, env: Env, args: readonly string[] = [], nodeArgs: readonly string[] = []): Promise<{ proc: Fixture; address: string }> {
  const file = fileURLToPath(new URL(`../fixtures/cli/${name}.js`, import.meta.url));
  const proc = spawnNode([...nodeArgs, file, ...args], env, { ipc: true });
  const ready = await started(proc, "ready");
  return { proc, address: String(ready.address) };
}

/** Start `micro api` and wait for it to print the address it listens on. */
export async function startGateway(env: Env, args: readonly string[] = []): Promise<{ proc: Fixture; url: string }> {
  const proc = spawnNode([MICRO_BIN, "api", "--address", "127.0.0.1:0", ...args], env);
  const ready = await started(proc, "listening");
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
