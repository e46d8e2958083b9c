/**
 * `micro new` without install: every template renders to the expected files for several name shapes, the
 * rendered protos pass the real `buf lint`, and bad input fails with a clear message, writing nothing.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { deriveNames } from "../../src/scaffold/names.js";
import { newProject } from "../../src/scaffold/new.js";
import { microTsSpecifier, packageRoot } from "../../src/scaffold/package-root.js";
import { UsageError } from "../../src/runtime/errors/usage.js";

const run = promisify(execFile);
const buf = join(packageRoot, "node_modules", ".bin", "buf");
const quiet = () => {};

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "micro-scaffold-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The files both project types write under the same names. */
const sharedFiles = [".dockerignore", ".env", ".gitignore", "Dockerfile", "README.md", "buf.gen.yaml", "buf.yaml", "package.json", "tsconfig.json", "tsconfig.test.json"];

function serviceFiles(alias: string): string[] {
  return [...sharedFiles, `proto/${alias}/v1/${alias}.proto`, `src/handler/${alias}.ts`, "src/main.ts", `src/subscriber/${alias}.ts`, `test/${alias}.test.ts`].sort();
}

/** A bot command has no proto of its own (micro-ts/bot ships the Command service), so no buf files. */
function botFiles(alias: string): string[] {
  const shared = sharedFiles.filter((f) => !f.startsWith("buf."));
  return [...shared, `src/command/${alias}.ts`, "src/main.ts", `test/${alias}.test.ts`].sort();
}

function apiFiles(alias: string): string[] {
  return [...sharedFiles, `proto/${alias}/api/v1/api.proto`, `proto/${alias}/v1/${alias}.proto`, `src/handler/${alias}.ts`, "src/main.ts", `test/${alias}.test.ts`].sort();
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path, base)));
    else out.push(path.slice(base.length + 1));
  }
  return out.sort();
}

describe("names", () => {
  test("hyphens and dots become identifiers, aliases and service names", () => {
    const hello = deriveNames("hello-world");
    assert.equal(hello.pascal, "HelloWorld");
    assert.equal(hello.camel, "helloWorld");
    assert.equal(hello.alias, "hello_world");
    assert.equal(hello.fqdn, "hello-world");
    const dotted = deriveNames("com.example.srv.foo");
    assert.equal(dotted.alias, "foo");
    assert.equal(dotted.pascal, "Foo");
    assert.equal(dotted.fqdn, "com.example.srv.foo");
    assert.equal(deriveNames("greeter", { namespace: "com.example" }).fqdn, "com.example.service.greeter");
    assert.equal(deriveNames("greeter", { type: "api" }).fqdn, "api.greeter");
    assert.equal(deriveNames("deploy", { type: "bot" }).fqdn, "micro.bot.deploy");
    assert.equal(deriveNames("deploy", { type: "bot", namespace: "com.example" }).fqdn, "com.example.bot.deploy");
    assert.equal(deriveNames("greeter", { fqdn: "x.y" }).fqdn, "x.y");
    assert.equal(deriveNames("greeter", { alias: "Say-Hi" }).alias, "say_hi");
  });

  for (const bad of ["", "1greeter", "hello world", "foo/bar", "../x", "a..b", "a.", "-x", "é"]) {
    test(`rejects the name ${JSON.stringify(bad)}`, () => {
      assert.throws(() => deriveNames(bad), (error: unknown) => error instanceof UsageError && /invalid project name/.test(error.message));
    });
  }
});

for (const type of ["service", "api", "bot"] as const) {
  describe(`${type} template`, () => {
    for (const name of ["greeter", "hello-world", "com.example.srv.foo"]) {
      test(`renders ${name} to the expected files, and its protos pass buf lint`, async () => {
        const dir = join(root, type, name);
        const result = await newProject({ name, type, dir, install: false, out: quiet });
        const alias = deriveNames(name).alias;
        const expected = type === "service" ? serviceFiles(alias) : type === "api" ? apiFiles(alias) : botFiles(alias);
        assert.deepEqual(result.files, expected);
        assert.deepEqual(await listFiles(dir), expected);
        // No temporary directory left beside the project.
        assert.deepEqual((await readdir(join(root, type))).filter((f) => f.startsWith(".")), []);

        const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
        assert.equal(pkg.name, name);
        assert.equal(pkg.dependencies["micro-ts"], `file:${packageRoot}`);
        for (const script of ["generate", "build", "start", "dev", "test"]) assert.ok(pkg.scripts[script], `script ${script}`);
        assert.match(await readFile(join(dir, "src/main.ts"), "utf8"), new RegExp(`name: "${result.names.fqdn.replace(/\./g, "\\.")}"`));

        if (type === "api") {
          // The API proto imports micro/api/v1/api.proto from the installed micro-ts.
          await mkdir(join(dir, "node_modules"));
          await symlink(packageRoot, join(dir, "node_modules", "micro-ts"));
        }
        if (type === "bot") assert.match(await readFile(join(dir, "src/main.ts"), "utf8"), /registerCommandHandler/);
        else await run(buf, ["lint"], { cwd: dir, timeout: 60_000 });
      });
    }
  });
}

test("the rendered proto fails buf lint when broken (the lint check can fail)", async () => {
  const dir = join(root, "broken");
  await newProject({ name: "broken", dir, install: false, out: quiet });
  const proto = join(dir, "proto/broken/v1/broken.proto");
  await writeFile(proto, (await readFile(proto, "utf8")).replace("service BrokenService", "service Broken"));
  await assert.rejects(run(buf, ["lint"], { cwd: dir, timeout: 60_000 }), (error: { stdout?: string }) => {
    assert.match(error.stdout ?? "", /should be suffixed with "Service"/);
    return true;
  });
});

test("configuration flags are written into the project's .env", async () => {
  const dir = join(root, "configured");
  await newProject({
    name: "configured",
    dir,
    install: false,
    out: quiet,
    config: { registry: "etcd", registry_address: "127.0.0.1:2379", broker: "nats", transport: "tcp" },
  });
  const env = await readFile(join(dir, ".env"), "utf8");
  assert.match(env, /^MICRO_REGISTRY=etcd$/m);
  assert.match(env, /^MICRO_REGISTRY_ADDRESS=127\.0\.0\.1:2379$/m);
  assert.match(env, /^MICRO_BROKER=nats$/m);
  assert.match(env, /^MICRO_TRANSPORT=tcp$/m);
  const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
  assert.match(pkg.scripts.start, /--env-file=\.env/);
});

test("micro new --transport grpc: .env serves gRPC and the project's tests run over it", async () => {
  const dir = join(root, "hello");
  await newProject({ name: "hello", dir, install: false, out: quiet, config: { transport: "grpc" } });
  assert.match(await readFile(join(dir, ".env"), "utf8"), /^MICRO_TRANSPORT=grpc$/m);
  assert.match(await readFile(join(dir, "test", "hello.test.ts"), "utf8"), /process\.env\.MICRO_TRANSPORT = "grpc";/);
});

test("an invalid name fails and writes nothing", async () => {
  const parent = join(root, "invalid");
  await mkdir(parent);
  await assert.rejects(newProject({ name: "bad name!", cwd: parent, install: false, out: quiet }), UsageError);
  assert.deepEqual(await readdir(parent), []);
});

test("a target directory that is not empty fails and is left untouched", async () => {
  const dir = join(root, "taken");
  await mkdir(dir);
  await writeFile(join(dir, "keep.txt"), "mine");
  await assert.rejects(newProject({ name: "taken", dir, install: false, out: quiet }), /already exists and is not empty/);
  assert.deepEqual(await readdir(dir), ["keep.txt"]);
  assert.deepEqual((await readdir(root)).filter((f) => f.startsWith(".taken")), []);
});

test("an existing empty directory is used", async () => {
  const dir = join(root, "empty");
  await mkdir(dir);
  const result = await newProject({ name: "empty", dir, install: false, out: quiet });
  assert.deepEqual(await listFiles(dir), result.files);
});

test("a checkout is a file: dependency, an installed package the same version range", async () => {
  assert.equal(microTsSpecifier(packageRoot), `file:${packageRoot}`);
  const installed = join(root, "installed", "node_modules", "micro-ts");
  await mkdir(join(installed, "dist"), { recursive: true });
  await writeFile(join(installed, "package.json"), JSON.stringify({ name: "micro-ts", version: "1.2.3" }));
  assert.equal(microTsSpecifier(installed), "^1.2.3");
});
