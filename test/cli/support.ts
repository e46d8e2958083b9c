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
import { spawnNode, type Event, type Fixture } from "../support/process.js";
import { newClient, readConfig, resolvePlugins, type RpcClient } from "../../src/index.js";

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

/** A readiness wait for suites that start several processes while the whole suite runs (2 cores, many processes). */
export const READY_MS = 60_000;

/** Start a fixture of test/fixtures/cli and wait (up to `readyMs`, default 60 s; killed when it does not come) for its `ready` event. */
export async function startFixture(name: string, env: Env, args: readonly string[] = [], nodeArgs: readonly string[] = [], readyMs?: number): Promise<{ proc: Fixture; address: string }> {
  const file = fileURLToPath(new URL(`../fixtures/cli/${name}.js`, import.meta.url));
  const proc = spawnNode([...nodeArgs, file, ...args], env, { ipc: true });
  const ready = await proc.started((e) => e.event === "ready", readyMs);
  return { proc, address: String(ready.address) };
}

/**
 * A client in this process over the plugins `env` names (the fixtures' registry), without retries, so a
 * test calls the fixture processes as any other service would. `close` releases it and its plugins.
 */
export async function openClient(env: Env): Promise<{ client: RpcClient; close: () => Promise<void> }> {
  const plugins = await resolvePlugins(readConfig([], env));
  const client = newClient({ deps: { selector: plugins.selector, transport: plugins.transport, broker: plugins.broker }, retries: 0 });
  return {
    client,
    close: async () => {
      client.close();
      await plugins.selector.close();
      await plugins.registry.close();
    },
  };
}

/** Start `micro api` and wait (up to `readyMs`, default 60 s; killed when it does not come) for it to print the address it listens on. */
export async function startGateway(env: Env, args: readonly string[] = [], readyMs?: number): Promise<{ proc: Fixture; url: string }> {
  const proc = spawnNode([MICRO_BIN, "api", "--address", "127.0.0.1:0", ...args], env);
  const ready = await proc.started((e) => e.event === "listening", readyMs);
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
