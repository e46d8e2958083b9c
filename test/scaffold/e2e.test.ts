/**
 * End to end, as a user lives it: `micro new` of the three templates (with a real npm install; micro-ts itself
 * comes from this checkout through a `file:` dependency, so dist/ must be built), then each project's own
 * `npm test`, its `npm start`, and a separate client process calling through the generated client.
 * Slow (npm install): one install per template, reused by every test here.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { packageRoot } from "../../src/scaffold/package-root.js";

const micro = join(packageRoot, "dist", "micro.js");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const INSTALL_TIMEOUT = 8 * 60_000;
const STEP_TIMEOUT = 4 * 60_000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to its end (killed after `timeout`), collecting its output. */
function exec(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeout: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => killGroup(child), timeout);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** npm runs the script in a child: signal the whole process group. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function assertOk(result: Result, what: string): void {
  assert.equal(result.code, 0, `${what} failed (exit ${result.code}):\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
}

let root: string;
let registryDir: string;
let env: NodeJS.ProcessEnv;
const servers: ChildProcess[] = [];
let serviceServer: ChildProcess | undefined;
let serviceDir: string;
let apiDir: string;
let botDir: string;
let newService: Result;
let newApi: Result;
let newBot: Result;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "micro-e2e-"));
  registryDir = join(root, "registry");
  // A registry directory of its own, so parallel runs (and anything else on the machine) never meet.
  env = {
    ...process.env,
    MICRO_REGISTRY: "local",
    MICRO_REGISTRY_ADDRESS: registryDir,
    MICRO_BROKER: "direct",
    MICRO_TRANSPORT: "tcp",
    MICRO_LOG_LEVEL: "warn",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  };
  serviceDir = join(root, "greeter");
  apiDir = join(root, "greeter-api");
  botDir = join(root, "deploy");
  [newService, newApi, newBot] = await Promise.all([
    exec(process.execPath, [micro, "new", "greeter", "--dir", serviceDir], root, env, INSTALL_TIMEOUT),
    exec(process.execPath, [micro, "new", "greeter", "--type", "api", "--dir", apiDir], root, env, INSTALL_TIMEOUT),
    exec(process.execPath, [micro, "new", "deploy", "--type", "bot", "--dir", botDir], root, env, INSTALL_TIMEOUT),
  ]);
}, { timeout: INSTALL_TIMEOUT + 60_000 });

after(async () => {
  // SIGTERM lets each service deregister and drain; SIGKILL after 10s bounds it.
  const closed = servers.map((s) => (s.exitCode === null && s.signalCode === null ? new Promise((r) => s.once("close", r)) : undefined));
  for (const server of servers) killGroup(server);
  const timer = setTimeout(() => servers.forEach((s) => killGroup(s, "SIGKILL")), 10_000);
  await Promise.all(closed);
  clearTimeout(timer);
  await rm(root, { recursive: true, force: true });
});

/** Start `npm start` in `dir`; resolves once it is spawned (the client waits for the registration). */
function start(dir: string): ChildProcess {
  const child = spawn(npm, ["start"], { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
  child.stderr!.resume();
  servers.push(child);
  return child;
}

/** `npm run build` in `dir` (the project's npm test builds too; this keeps each test runnable alone). */
async function build(dir: string): Promise<void> {
  assertOk(await exec(npm, ["run", "build"], dir, env, STEP_TIMEOUT), `npm run build in ${dir}`);
}

/** The service project's `npm start`, started once. */
async function startService(): Promise<void> {
  if (serviceServer) return;
  await build(serviceDir);
  serviceServer = start(serviceDir);
}

/**
 * A client process, run from inside a project so that `micro-ts` and the compiled generated code resolve:
 * waits (through a registry watch, bounded) until `service` is registered, then runs `call`.
 */
async function runClient(dir: string, service: string, imports: string, call: string, clientEnv: NodeJS.ProcessEnv = env): Promise<Result> {
  const script = join(dir, "e2e-client.mjs");
  await writeFile(
    script,
    `import { newService } from "micro-ts";
${imports}
const service = newService({ name: "e2e-client" });
service.init();
const { registry } = await service.plugins();
const ready = async () => (await registry.getService(${JSON.stringify(service)})).some((s) => s.nodes.length > 0);
// Wake on every registry event; also re-check every 250 ms, because a registration that lands while the
// watch takes its first snapshot is part of that snapshot and never becomes an event. Bounded by 60 s.
const watcher = registry.watch({ service: ${JSON.stringify(service)} });
const deadline = Date.now() + 60000;
const events = watcher[Symbol.asyncIterator]();
let next = events.next();
while (!(await ready()) && Date.now() < deadline) {
  let timer;
  const tick = new Promise((resolve) => (timer = setTimeout(resolve, 250, "tick")));
  if ((await Promise.race([next, tick])) !== "tick") next = events.next();
  clearTimeout(timer);
}
watcher.stop();
if (!(await ready())) throw new Error("${service} never registered");
const reply = await (async () => { ${call} })();
console.log(JSON.stringify(reply));
await service.stop();
`,
  );
  return exec(process.execPath, [script], dir, clientEnv, 90_000);
}

/** Start `micro <args>` (kept until the end); resolves to what `pattern` captures from its stdout (its address). */
function startMicro(args: readonly string[], pattern: RegExp): Promise<string> {
  const child = spawn(process.execPath, [micro, ...args], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  servers.push(child);
  child.stderr!.resume();
  return new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("close", (code) => reject(new Error(`micro ${args[0]} exited (${code})`)));
  });
}

/** POST `body` to `url` until `done(status, text)` holds or 60 s pass; resolves to the last `<status> <text>`. */
async function postUntil(url: string, body: string, done: (status: number, text: string) => boolean, headers: Record<string, string> = {}): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await fetch(url, { method: "POST", body, headers });
    const text = await r.text();
    if (done(r.status, text) || Date.now() > deadline) return `${r.status} ${text}`;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("micro new, installed and generated", () => {
  test("the service project was created, installed and generated", () => {
    assertOk(newService, "micro new greeter");
    assert.match(newService.stdout, /greeter\.proto/);
    assert.match(newService.stdout, /Next steps:/);
    assert.match(newService.stderr, /npm install/);
    assert.ok(existsSync(join(serviceDir, "src/gen/greeter/v1/greeter.micro.ts")));
    assert.ok(existsSync(join(serviceDir, "src/gen/greeter/v1/greeter.ts")));
  });

  test("the api project was created, installed and generated", () => {
    assertOk(newApi, "micro new greeter --type api");
    assert.ok(existsSync(join(apiDir, "src/gen/greeter/api/v1/api.micro.ts")));
    assert.ok(existsSync(join(apiDir, "src/gen/micro/api/v1/api.ts")));
  });

  test("the service project's own npm test passes", { timeout: STEP_TIMEOUT }, async () => {
    assertOk(await exec(npm, ["test"], serviceDir, env, STEP_TIMEOUT), "npm test (service)");
  });

  test("the api project's own npm test passes", { timeout: STEP_TIMEOUT }, async () => {
    assertOk(await exec(npm, ["test"], apiDir, env, STEP_TIMEOUT), "npm test (api)");
  });

  test("npm start serves the service; a client process gets Hello John", { timeout: STEP_TIMEOUT }, async () => {
    await startService();
    const result = await runClient(
      serviceDir,
      "greeter",
      `import { newGreeterServiceClient } from "./dist/gen/greeter/v1/greeter.micro.js";`,
      `return newGreeterServiceClient("greeter", service.client()).call({ name: "John" }, { timeout: 10000 });`,
    );
    assertOk(result, "client process");
    assert.deepEqual(JSON.parse(result.stdout.trim().split("\n").pop()!), { msg: "Hello John" });
  });

  test("npm start serves the API; a client process gets Hello John through it and the backend", { timeout: STEP_TIMEOUT }, async () => {
    // The backend is the service project (it registers as "greeter" in the same registry).
    await startService();
    await build(apiDir);
    start(apiDir);
    const result = await runClient(
      apiDir,
      "api.greeter",
      `import { newGreeterClient } from "./dist/gen/greeter/api/v1/api.micro.js";
import { Request } from "./dist/gen/micro/api/v1/api.js";`,
      `return newGreeterClient("api.greeter", service.client()).call(Request.fromPartial({ method: "POST", path: "/greeter/call", body: '{"name":"John"}' }), { timeout: 10000 });`,
    );
    assertOk(result, "client process");
    const response = JSON.parse(result.stdout.trim().split("\n").pop()!) as { statusCode: number; body: string };
    assert.equal(response.statusCode, 200);
    assert.deepEqual(JSON.parse(response.body), { message: "Hello John" });
  });

  test("the Go Micro route: micro api, then curl -d '{\"name\":\"John\"}' localhost/greeter/call answers {\"msg\":\"Hello John\"}", { timeout: STEP_TIMEOUT }, async () => {
    assert.match(newService.stdout, /^ {2}curl -s localhost:8080\/greeter\/call -d '\{"name":"John"\}'$/m);
    await startService();
    const address = await startMicro(["api", "--address", "127.0.0.1:0"], /"address":"([^"]+)"/);
    // What curl -d sends: a form content type carrying JSON. Retried until the service has registered.
    const last = await postUntil(`http://${address}/greeter/call`, '{"name":"John"}', (status) => status === 200, { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(last, '200 {"msg":"Hello John"}');
  });

  test("the bot command project was created and installed, and its own npm test passes", { timeout: STEP_TIMEOUT }, async () => {
    assertOk(newBot, "micro new deploy --type bot");
    assert.match(newBot.stdout, /Created bot micro\.bot\.deploy/);
    assert.ok(!existsSync(join(botDir, "buf.gen.yaml")), "no code generation in a bot command project");
    assertOk(await exec(npm, ["test"], botDir, env, STEP_TIMEOUT), "npm test (bot)");
  });

  test("npm start serves the bot command; micro bot offers it and answers `deploy John`", { timeout: STEP_TIMEOUT }, async () => {
    await build(botDir);
    start(botDir);
    const address = await startMicro(["bot", "--inputs", "http", "--http_address", "127.0.0.1:0", "--allow_users", "me"], /"http":"([^"]+)"/);
    // Retried until the command service has registered and the bot's watch has seen it.
    const body = JSON.stringify({ user: "me", channel: "ops", text: "deploy John" });
    const last = await postUntil(`http://${address}/message`, body, (_status, text) => text.includes("Hello John"));
    assert.equal(last, '200 {"text":"Hello John, from me"}');
  });

  test("MICRO_TRANSPORT=grpc: npm start's service answers Python grpcio by its full gRPC path and a micro-ts client through discovery", { timeout: STEP_TIMEOUT }, async () => {
    await build(serviceDir);
    // A registry of its own: this node is the only greeter its clients can find.
    const grpcEnv = { ...env, MICRO_TRANSPORT: "grpc", MICRO_REGISTRY_ADDRESS: join(root, "registry-grpc") };
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const address = `127.0.0.1:${(probe.address() as { port: number }).port}`;
    await new Promise<void>((r) => probe.close(() => r()));
    const child = spawn(npm, ["start", "--", "--server_address", address], { cwd: serviceDir, env: grpcEnv, stdio: ["ignore", "ignore", "pipe"], detached: true });
    child.stderr!.resume();
    servers.push(child);
    const viaDiscovery = await runClient(
      serviceDir,
      "greeter",
      `import { newGreeterServiceClient } from "./dist/gen/greeter/v1/greeter.micro.js";`,
      `return newGreeterServiceClient("greeter", service.client()).call({ name: "John" }, { timeout: 10000 });`,
      { ...grpcEnv, MICRO_TRANSPORT: "tcp" },
    );
    assertOk(viaDiscovery, "client process (tcp client, grpc node found through discovery)");
    assert.deepEqual(JSON.parse(viaDiscovery.stdout.trim().split("\n").pop()!), { msg: "Hello John" });
    const python = `
import grpc
ch = grpc.insecure_channel("${address}")
rsp = ch.unary_unary("/greeter.v1.GreeterService/Call")(b"\\x0a\\x04John", timeout=30)
assert rsp[0] == 0x0a, rsp
print(rsp[2:2 + rsp[1]].decode())
`;
    const py = await exec("/usr/bin/python3", ["-c", python], serviceDir, env, 60_000);
    assertOk(py, "python grpcio client");
    assert.equal(py.stdout.trim(), "Hello John");
  });

  test("a scaffolded service that cannot start prints one line and exits 1", { timeout: STEP_TIMEOUT }, async () => {
    await build(serviceDir);
    const result = await exec(process.execPath, ["dist/main.js", "--registry", "nosuch"], serviceDir, env, 60_000);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^greeter: cannot start: .*nosuch.*\n$/);
  });

  test("the service project's npm test runs quietly when MICRO_LOG_LEVEL is not set (its subscriber's logger too)", { timeout: STEP_TIMEOUT }, async () => {
    const quietEnv = { ...env };
    delete quietEnv.MICRO_LOG_LEVEL;
    // Run as a user's own `node --test` (not as a child of this one, which would swallow its tests' stderr).
    delete quietEnv.NODE_TEST_CONTEXT;
    const result = await exec(npm, ["test"], serviceDir, quietEnv, STEP_TIMEOUT);
    assertOk(result, "npm test (service, no MICRO_LOG_LEVEL)");
    assert.doesNotMatch(result.stdout + result.stderr, /"level":30/);
  });

  test("the project depends on this checkout and on the tools micro-ts builds with", async () => {
    const pkg = JSON.parse(await readFile(join(serviceDir, "package.json"), "utf8"));
    const own = JSON.parse(await readFile(join(packageRoot, "package.json"), "utf8"));
    assert.equal(pkg.dependencies["micro-ts"], `file:${packageRoot}`);
    assert.equal(pkg.devDependencies["ts-proto"], own.devDependencies["ts-proto"]);
    assert.equal(pkg.devDependencies["@bufbuild/buf"], own.devDependencies["@bufbuild/buf"]);
    assert.equal(pkg.devDependencies["typescript"], own.devDependencies["typescript"]);
  });
});
