/**
 * The `micro` bin (compiled, in dist/) as a user runs it: help, version, typo suggestions, and the exit codes
 * 0 (success), 1 (failure) and 2 (usage error).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/scaffold/package-root.js";

const micro = join(packageRoot, "dist", "micro.js");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [micro, ...args], { cwd, timeout: 60_000, env: { ...process.env, MICRO_LOG_LEVEL: "silent", ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let cwd: string;
before(async () => {
  cwd = await mkdtemp(join(tmpdir(), "micro-cli-"));
});
after(async () => {
  await rm(cwd, { recursive: true, force: true });
});

test("--help lists the commands and the global flags, exit 0", async () => {
  const result = await run(["--help"], cwd);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /micro new <name>/);
  assert.match(result.stdout, /--registry_address/);
  assert.match(result.stdout, /completion/);
});

test("--version prints the package version", async () => {
  const { version } = JSON.parse(await readFile(join(packageRoot, "package.json"), "utf8")) as { version: string };
  const result = await run(["--version"], cwd);
  assert.equal(result.code, 0);
  assert.equal(result.stdout.trim(), version);
});

test("a mistyped command suggests the right one, exit 2", async () => {
  const result = await run(["nwe", "greeter"], cwd);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command "nwe"\. Did you mean new\?/);
});

test("a command with no close match is named, with the list of commands, exit 2", async () => {
  const result = await run(["nosuch"], cwd);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command "nosuch"; the commands are: .*\bcall\b.*\bnew\b/);
});

test("no command, an unknown flag or a bad flag value are usage errors, exit 2", async () => {
  assert.equal((await run([], cwd)).code, 2);
  const unknown = await run(["new", "greeter", "--no-install", "--bogus"], cwd);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /bogus/);
  const type = await run(["new", "greeter", "--type", "website"], cwd);
  assert.equal(type.code, 2);
  assert.match(type.stderr, /Choices: "service", "api", "bot"/);
  assert.deepEqual(await readdir(cwd), []);
});

test("an invalid name is a usage error that names the rule, exit 2, nothing written", async () => {
  const result = await run(["new", "hello world"], cwd);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /invalid project name "hello world": use letters, digits/);
  assert.deepEqual(await readdir(cwd), []);
});

test("micro new checks --registry, --broker, --transport and their addresses before writing anything, exit 2", async () => {
  for (const [args, message] of [
    [["--registry", "nosuch"], /unknown registry "nosuch"|registry.*nosuch/],
    [["--broker", "kafka"], /kafka/],
    [["--transport", "quic"], /quic/],
    [["--registry", "etcd", "--registry_address", "nonsense"], /--registry_address "nonsense": missing :port .*e\.g\. 127\.0\.0\.1:2379/],
    [["--broker", "nats", "--broker_address", "http://nats:4222"], /--broker_address "http:\/\/nats:4222": use nats:\/\/host:port/],
    [["--broker_address", "localhost"], /--broker_address "localhost": missing :port/],
  ] as const) {
    const result = await run(["new", "checked", "--no-install", ...args], cwd);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
    assert.deepEqual(await readdir(cwd), [], args.join(" "));
  }
});

test("a non-empty target fails, exit 1, and is left as it was", async () => {
  const dir = join(cwd, "taken");
  await mkdir(dir);
  await writeFile(join(dir, "file.txt"), "x");
  const result = await run(["new", "taken", "--no-install"], cwd);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /already exists and is not empty/);
  assert.deepEqual(await readdir(dir), ["file.txt"]);
  await rm(dir, { recursive: true });
});

test("micro new --no-install renders, prints the tree and the steps, exit 0", async () => {
  const result = await run(["new", "hello-world", "--no-install", "--registry", "memory"], cwd);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /hello_world\.proto/);
  assert.match(result.stdout, /npm install\n {2}npm run generate/);
  assert.match(result.stdout, /micro call hello-world HelloWorldService\.Call/);
  assert.match(result.stdout, /^ {2}micro api {3}# the HTTP gateway.*\n {2}curl -s localhost:8080\/hello-world\/call -d '\{"name":"John"\}'$/m);
  assert.match(await readFile(join(cwd, "hello-world", ".env"), "utf8"), /^MICRO_REGISTRY=memory$/m);
  await rm(join(cwd, "hello-world"), { recursive: true });
});

test("micro new --registry mdns --broker rabbitmq bakes both into .env, with the RabbitMQ address checked", async () => {
  const result = await run(["new", "zero-conf", "--no-install", "--registry", "mdns", "--broker", "rabbitmq", "--broker_address", "amqp://user:pass@10.0.0.5:5672/prod"], cwd);
  assert.equal(result.code, 0, result.stderr);
  const env = await readFile(join(cwd, "zero-conf", ".env"), "utf8");
  assert.match(env, /^MICRO_REGISTRY=mdns$/m);
  assert.match(env, /^MICRO_BROKER=rabbitmq$/m);
  assert.match(env, /^MICRO_BROKER_ADDRESS=amqp:\/\/user:pass@10\.0\.0\.5:5672\/prod$/m);
  await rm(join(cwd, "zero-conf"), { recursive: true });
  const bad = await run(["new", "zero-conf", "--no-install", "--broker", "rabbitmq", "--broker_address", "http://rabbit:5672"], cwd);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--broker_address "http:\/\/rabbit:5672": use amqp:\/\/host:port/);
  assert.deepEqual(await readdir(cwd), []);
});

test("a failed install names the step and its output, exit 1, and leaves the project", async () => {
  // A package registry on loopback that fails every request.
  const registry: Server = createServer((_req, res) => res.writeHead(500).end("registry down"));
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = registry.address() as AddressInfo;
    const result = await run(["new", "offline"], cwd, {
      npm_config_registry: `http://127.0.0.1:${port}/`,
      npm_config_fetch_retries: "0",
      npm_config_prefer_online: "true",
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Installing dependencies \(npm install\) failed: `npm install[^`]*` exited with code \d+/);
    assert.match(result.stderr, /--- last lines of output ---\n[\s\S]*npm error/);
    assert.match(result.stderr, /The project was written to .*offline; fix the cause/);
    assert.ok((await readdir(join(cwd, "offline"))).includes("package.json"));
  } finally {
    await new Promise((resolve) => registry.close(resolve));
    await rm(join(cwd, "offline"), { recursive: true, force: true });
  }
});
