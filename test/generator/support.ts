/**
 * Helpers for the generator tests: fixture list, the golden variants, running protoc / buf / tsc for real.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests run from build/test/generator). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const FIXTURES = join(ROOT, "fixtures/proto");
export const GOLDEN = join(ROOT, "test/golden");
export const PLUGIN = join(ROOT, "dist/protoc-gen-micro.js");
const BIN = join(ROOT, "node_modules/.bin");

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string, suffix = ""): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isSymbolicLink() || e.name === "node_modules") continue;
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(suffix)) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** All fixture protos, relative to fixtures/proto. */
export const fixtureProtos = (): string[] => listFiles(FIXTURES, ".proto");

/** A tree of files: relative path → content. */
export function readTree(dir: string): Map<string, string> {
  return new Map(listFiles(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

/** One golden configuration: protoc-gen-micro's options and the message library run beside it. */
export interface Variant {
  readonly name: string;
  readonly microOpt: string;
  readonly library: "ts-proto" | "protobuf-es";
  readonly libraryOpt: string;
}

const tsProtoNaming = "fileSuffix=.pb,useSnakeTypeName=false,snakeToCamel=false,typePrefix=T,typeSuffix=X";

export const variants: readonly Variant[] = [
  { name: "ts-proto", microOpt: "import_extension=js", library: "ts-proto", libraryOpt: "outputServices=none,importSuffix=.js" },
  {
    name: "protobuf-es",
    microOpt: "messages=protobuf-es,import_extension=js",
    library: "protobuf-es",
    libraryOpt: "target=ts,import_extension=js",
  },
  {
    name: "ts-proto-naming",
    microOpt: `importSuffix=.js,${tsProtoNaming}`,
    library: "ts-proto",
    libraryOpt: `outputServices=none,importSuffix=.js,${tsProtoNaming}`,
  },
];

/** The OpenAPI golden set: only the `.openapi.json` files of a run with `openapi=true`, in test/golden/openapi. */
export const openapiGolden = { name: "openapi", microOpt: "openapi=true,import_extension=js", suffix: ".openapi.json" } as const;

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a command (bounded in time), never throwing on a non-zero exit. */
export function run(cmd: string, args: readonly string[], cwd = ROOT, timeout = 60_000, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, MICRO_LOG_LEVEL: "silent", ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1;
      done({ code, stdout, stderr });
    });
  });
}

/** protoc needs an executable plugin file; `npm run build` writes it without the x bit. */
export function pluginPath(): string {
  chmodSync(PLUGIN, 0o755);
  return PLUGIN;
}

/** Run protoc with protoc-gen-micro (and optionally a message library) on `protos`. */
export function protoc(
  out: string,
  microOpt: string,
  protos = fixtureProtos(),
  library?: { variant: Variant; out: string },
  env: Record<string, string> = {},
): Promise<Run> {
  const args = ["-I", FIXTURES, `--plugin=protoc-gen-micro=${pluginPath()}`, `--micro_out=${out}`];
  if (microOpt !== "") args.push(`--micro_opt=${microOpt}`);
  if (library !== undefined) {
    if (library.variant.library === "ts-proto") {
      args.push(`--plugin=protoc-gen-ts_proto=${join(BIN, "protoc-gen-ts_proto")}`, `--ts_proto_out=${library.out}`, `--ts_proto_opt=${library.variant.libraryOpt}`);
    } else {
      args.push(`--plugin=protoc-gen-es=${join(BIN, "protoc-gen-es")}`, `--es_out=${library.out}`, `--es_opt=${library.variant.libraryOpt}`);
    }
  }
  return run(join(BIN, "protoc"), [...args, ...protos], ROOT, 60_000, env);
}

/** Run `buf generate` on the fixtures with protoc-gen-micro as a local plugin. */
export function bufGenerate(dir: string, microOpt: string): Promise<Run> {
  const opts = microOpt === "" ? [] : microOpt.split(",");
  const template = [
    "version: v2",
    "plugins:",
    `  - local: ${JSON.stringify(pluginPath())}`,
    "    out: out",
    ...(opts.length > 0 ? ["    opt:", ...opts.map((o) => `      - ${JSON.stringify(o)}`)] : []),
    "",
  ].join("\n");
  writeFileSync(join(dir, "buf.gen.yaml"), template);
  return run(join(BIN, "buf"), ["generate", FIXTURES, "--template", join(dir, "buf.gen.yaml"), "-o", dir], dir);
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `micro-gen-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Make `dir` a tiny ESM TypeScript project (emitting nothing, into `js/`, or beside the sources): `micro-ts` resolves to this repository (its dist types),
 * `@bufbuild/protobuf` to the installed one, strict compiler options.
 */
export function makeProject(dir: string, emit: "none" | "js-dir" | "in-place" = "none"): void {
  mkdirSync(join(dir, "node_modules/@bufbuild"), { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules/micro-ts"), "dir");
  symlinkSync(join(ROOT, "node_modules/@bufbuild/protobuf"), join(dir, "node_modules/@bufbuild/protobuf"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const compilerOptions = {
    strict: true,
    target: "es2022",
    lib: ["es2023"],
    module: "nodenext",
    moduleResolution: "nodenext",
    skipLibCheck: true,
    types: [],
    ...(emit === "none" ? { noEmit: true } : emit === "js-dir" ? { outDir: "js" } : {}),
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["**/*.ts"], exclude: ["node_modules", "js"] }, null, 2));
}

/** `tsc -p dir` with the repository's TypeScript. */
export function tsc(dir: string): Promise<Run> {
  return run(join(BIN, "tsc"), ["-p", join(dir, "tsconfig.json")], dir, 120_000);
}
