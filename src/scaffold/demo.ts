/**
 * `npm run demo`: the whole flow on a fresh clone. Scaffolds a greeter into a temporary directory (micro new:
 * render, npm install, generate), builds and starts it with `npm start`, calls it by name through its
 * generated client, prints the reply, and cleans up, also when a step fails or on Ctrl-C.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Client } from "../runtime/client/index.js";
import { newService, type Service } from "../runtime/service/index.js";
import { newProject } from "./new.js";
import { npmCommand, runStep } from "./steps.js";

const NAME = "greeter";
const STEPS = 4;
const REGISTER_TIMEOUT = 30_000;

let step = 0;
function progress(text: string): void {
  process.stdout.write(`\n[${++step}/${STEPS}] ${text}\n`);
}

/** Stop `npm start` and the node process it runs (they share a process group); bounded. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 10_000);
  await closed;
  clearTimeout(timer);
}

/**
 * Resolves once `name` has a node in the registry; rejects when the server exits first or after the timeout.
 * Wakes on every registry event, and re-checks every 250 ms too: a registration that lands while the watch
 * takes its first snapshot belongs to that snapshot and never becomes an event.
 */
async function waitForRegistration(service: Service, name: string, server: ChildProcess, serverLog: () => string): Promise<void> {
  const { registry } = await service.plugins();
  const registered = async () => (await registry.getService(name)).some((s) => s.nodes.length > 0);
  const exited = () => server.exitCode !== null || server.signalCode !== null;
  const watcher = registry.watch({ service: name });
  const events = watcher[Symbol.asyncIterator]();
  const deadline = Date.now() + REGISTER_TIMEOUT;
  let next = events.next();
  try {
    while (!(await registered())) {
      if (exited()) throw new Error(`the service exited before registering (exit ${server.exitCode ?? server.signalCode}):\n${serverLog()}`);
      if (Date.now() > deadline) throw new Error(`${name} did not register within ${REGISTER_TIMEOUT / 1000}s:\n${serverLog()}`);
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<"tick">((resolve) => (timer = setTimeout(resolve, 250, "tick")));
      if ((await Promise.race([next, tick])) !== "tick") next = events.next();
      clearTimeout(timer);
    }
  } finally {
    watcher.stop();
  }
}

async function demo(root: string, cleanup: { server?: ChildProcess; client?: Service }): Promise<void> {
  const registryDir = join(root, "registry");
  const dir = join(root, NAME);
  // A registry of the demo's own: nothing else on the machine sees the greeter, and it sees nothing else.
  const env: NodeJS.ProcessEnv = { ...process.env, MICRO_REGISTRY: "local", MICRO_REGISTRY_ADDRESS: registryDir, MICRO_LOG_LEVEL: "warn" };

  progress(`micro new ${NAME} → ${dir} (render, npm install, generate)`);
  await newProject({ name: NAME, dir, install: true, nextSteps: false });

  progress("npm run build");
  await runStep("Compiling (npm run build)", npmCommand, ["run", "build"], dir, env);

  progress("npm start");
  let serverLog = "";
  const server = spawn(npmCommand, ["start"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  cleanup.server = server;
  const keep = (chunk: Buffer) => (serverLog = (serverLog + chunk.toString()).slice(-4000));
  server.stdout!.on("data", keep);
  server.stderr!.on("data", keep);

  const client = newService({ name: "demo-client", env });
  cleanup.client = client;
  client.init();
  await waitForRegistration(client, NAME, server, () => serverLog);
  process.stdout.write(`${NAME} is registered and serving\n`);

  progress(`calling ${NAME} through the generated client: GreeterService.Call({ name: "John" })`);
  const generated = (await import(pathToFileURL(join(dir, "dist/gen/greeter/v1/greeter.micro.js")).href)) as {
    newGreeterServiceClient(service: string, client: Client): { call(request: { name: string }, options?: { timeout?: number }): Promise<{ msg: string }> };
  };
  const reply = await generated.newGreeterServiceClient(NAME, client.client()).call({ name: "John" }, { timeout: 10_000 });
  process.stdout.write(`reply: ${JSON.stringify(reply)}\n`);
}

async function main(): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), "micro-demo-"));
  const cleanup: { server?: ChildProcess; client?: Service } = {};
  let cleaned: Promise<void> | undefined;
  const clean = () =>
    (cleaned ??= (async () => {
      process.stdout.write(`\ncleaning up: stopping the service, removing ${root}\n`);
      await cleanup.client?.stop().catch(() => undefined);
      if (cleanup.server) await stopServer(cleanup.server);
      await rm(root, { recursive: true, force: true });
    })());
  const interrupted = () => {
    void clean().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    await demo(root, cleanup);
    await clean();
    process.stdout.write("\ndone\n");
    return 0;
  } catch (error) {
    process.stderr.write(`\ndemo failed: ${(error as Error).message ?? String(error)}\n`);
    await clean();
    return 1;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
}

process.exitCode = await main();
