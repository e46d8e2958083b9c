/** Benchmark servers in their own processes (compiled scripts next to the benchmark, run with plain node). */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Start `node <file> <args>` (`file` relative to `base`, usually `import.meta.url`) with `env`, and resolve
 * with the first JSON line on its stdout whose event is `ready` (it carries the addresses the process serves).
 * stderr is passed through. The process is added to `children` so the caller can stop it (see {@link stopAll}).
 */
export function startReadyRecord(children: ChildProcess[], file: string, base: string | URL, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(file, base)), ...args], { env, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      const line = buffer.split("\n").find((l) => l.includes('"ready"'));
      if (line) resolve(JSON.parse(line) as Record<string, string>);
    });
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
  });
}

/** {@link startReadyRecord}, resolving with the ready line's `address`. */
export async function startReady(children: ChildProcess[], file: string, base: string | URL, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return String((await startReadyRecord(children, file, base, args, env)).address);
}

/** SIGTERM every child and wait until all have exited. */
export async function stopAll(children: readonly ChildProcess[]): Promise<void> {
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once("exit", r)))));
}
