/**
 * `npm run bench:generate`: how long protoc takes with protoc-gen-micro, ts-proto and protoc-gen-es (target=ts),
 * on one file and on a generated corpus of 200+ files with services, all in the same run. Prints the median of
 * each, ratio first (protoc-gen-micro ÷ peer; below 1 means protoc-gen-micro is faster).
 *
 * Options: BENCH_FILES (corpus size, default 200), BENCH_RUNS (single-file runs, default 15),
 * BENCH_CORPUS_RUNS (corpus runs, default 5).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FILES = Number(process.env.BENCH_FILES ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const CORPUS_RUNS = Number(process.env.BENCH_CORPUS_RUNS ?? 5);

/** The protoc executable itself (not the npm wrapper, which would add a Node start-up to every run). */
function protocBinary(): string {
  const dir = join(ROOT, "node_modules/protoc");
  const assets = JSON.parse(readFileSync(join(dir, "assets.json"), "utf8")) as { arch: string; platform: string; executable: string }[];
  const asset = assets.find((a) => a.arch === process.arch && a.platform === process.platform);
  const bin = asset ? join(dir, "bin", asset.executable) : "";
  return bin !== "" && existsSync(bin) ? bin : join(ROOT, "node_modules/.bin/protoc");
}

/** One generated proto file: messages, a service with all four kinds, HTTP rules, a shared import. */
function corpusFile(i: number): string {
  return `syntax = "proto3";

package bench.p${i}.v1;

import "google/api/annotations.proto";
import "bench/common.proto";

// Service${i} is generated for the benchmark.
service Service${i} {
  // Get returns one item.
  rpc Get(GetRequest) returns (Item) {
    option (google.api.http) = { get: "/v1/s${i}/items/{id}" };
  }
  rpc Create(Item) returns (Item) {
    option (google.api.http) = { post: "/v1/s${i}/items" body: "*" };
  }
  rpc List(GetRequest) returns (stream Item);
  rpc Upload(stream Item) returns (bench.common.Ack);
  rpc Sync(stream Item) returns (stream Item);
}

message GetRequest {
  string id = 1;
  bench.common.Page page = 2;
}

message Item {
  string id = 1;
  string name = 2;
  repeated string tags = 3;
  map<string, int64> counters = 4;
  Inner inner = 5;
  message Inner {
    bool flag = 1;
    double score = 2;
  }
}
`;
}

const common = `syntax = "proto3";

package bench.common;

message Page {
  int32 size = 1;
  string token = 2;
}

message Ack {
  bool ok = 1;
}
`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

interface Plugin {
  readonly label: string;
  readonly name: string;
  readonly path: string;
  readonly opt: string;
}

function time(protoc: string, include: string, plugin: Plugin, out: string, files: readonly string[]): number {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const args = ["-I", include, `--plugin=protoc-gen-${plugin.name}=${plugin.path}`, `--${plugin.name}_out=${out}`];
  if (plugin.opt !== "") args.push(`--${plugin.name}_opt=${plugin.opt}`);
  const start = process.hrtime.bigint();
  execFileSync(protoc, [...args, ...files], { stdio: ["ignore", "ignore", "inherit"] });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), "micro-bench-generate-"));
  try {
    const include = join(work, "proto");
    mkdirSync(join(include, "google/api"), { recursive: true });
    mkdirSync(join(include, "bench"), { recursive: true });
    for (const f of ["annotations.proto", "http.proto"]) copyFileSync(join(ROOT, "fixtures/proto/google/api", f), join(include, "google/api", f));
    writeFileSync(join(include, "bench/common.proto"), common);
    const corpus: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const name = `bench/p${i}/v1/service${i}.proto`;
      mkdirSync(join(include, dirname(name)), { recursive: true });
      writeFileSync(join(include, name), corpusFile(i));
      corpus.push(name);
    }

    const micro = join(ROOT, "build/src/protoc-gen-micro.js");
    chmodSync(micro, 0o755);
    // Bundle the plugin's dependencies beside build/src, as `npm run build` does beside dist.
    execFileSync(process.execPath, [join(ROOT, "build/src/generator/bundle.js")], { stdio: "inherit" });
    const plugins: Plugin[] = [
      { label: "protoc-gen-micro", name: "micro", path: micro, opt: "" },
      { label: "ts-proto", name: "ts_proto", path: join(ROOT, "node_modules/.bin/protoc-gen-ts_proto"), opt: "" },
      { label: "protoc-gen-es", name: "es", path: join(ROOT, "node_modules/.bin/protoc-gen-es"), opt: "target=ts" },
    ];
    const protoc = protocBinary();
    const out = join(work, "out");
    const cases = [
      { label: "single file", files: corpus.slice(0, 1), runs: RUNS },
      { label: `corpus (${FILES} files)`, files: corpus, runs: CORPUS_RUNS },
    ];
    process.stderr.write(`protoc: ${protoc}\n`);
    const medians = new Map<string, number>();
    for (const c of cases) {
      // Interleave the plugins run by run, so that load on the machine affects them alike.
      const samples = new Map<string, number[]>(plugins.map((p) => [p.label, []]));
      for (const p of plugins) time(protoc, include, p, out, c.files); // warm the file cache
      for (let r = 0; r < c.runs; r++) {
        for (const p of plugins) samples.get(p.label)!.push(time(protoc, include, p, out, c.files));
        process.stderr.write(`\r${c.label}: run ${r + 1}/${c.runs}`);
      }
      process.stderr.write("\n");
      for (const p of plugins) medians.set(`${c.label}|${p.label}`, median(samples.get(p.label)!));
    }

    const rows: string[][] = [["ratio", "case", "protoc-gen-micro", "peer", "peer time"]];
    for (const c of cases) {
      const m = medians.get(`${c.label}|protoc-gen-micro`)!;
      for (const p of plugins.slice(1)) {
        const peer = medians.get(`${c.label}|${p.label}`)!;
        rows.push([(m / peer).toFixed(2), c.label, `${m.toFixed(1)} ms`, p.label, `${peer.toFixed(1)} ms`]);
      }
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const line = (r: string[]): string => r.map((v, i) => v.padEnd(widths[i]!)).join("  ");
    process.stdout.write(`median wall time of protoc with each plugin (same inputs, same run; ratio = protoc-gen-micro / peer)\n`);
    process.stdout.write(rows.map(line).join("\n") + "\n");

    // Where a single-file run goes: Node's own start-up, then loading each plugin's modules (`--version` loads
    // them and exits), the rest is decoding the request and generating.
    const startup: [string, string[]][] = [
      ["node (no script)", ["-e", "0"]],
      ["protoc-gen-micro --version", [micro, "--version"]],
      ["protoc-gen-es --version", [join(ROOT, "node_modules/@bufbuild/protoc-gen-es/bin/protoc-gen-es"), "--version"]],
    ];
    const startSamples = new Map<string, number[]>(startup.map(([label]) => [label, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const [label, args] of startup) {
        const start = process.hrtime.bigint();
        execFileSync(process.execPath, args, { stdio: "ignore" });
        startSamples.get(label)!.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
    process.stdout.write("\nstart-up (median of the process alone, no protoc)\n");
    for (const [label] of startup) process.stdout.write(`${label.padEnd(28)}  ${median(startSamples.get(label)!).toFixed(1)} ms\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
