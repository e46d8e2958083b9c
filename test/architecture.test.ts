/**
 * The shape of src/: no import cycles between files (type imports and dynamic imports count), and each
 * folder imports only the folders below it (docs/design.md):
 *
 *   cli → scaffold, api, bot, sidecar, web, runtime · scaffold → runtime · api → runtime · bot → runtime
 *   sidecar → api, runtime · web → api, runtime · runtime → (itself) · generator → (itself)
 *   http → (itself): the path-template grammar every folder may import
 *   proto → (itself): protobuf facts (scalar names) the generator and the runtime share
 *   openapi → http, proto: OpenAPI documents, built the same way by the generator and the gateway
 *
 * Files inside a folder do not import the root façades (src/index.ts and the entry points): those re-export
 * everything and would hide the real arrow.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

/** The repository root: this file runs from build/test/ (compiled) or test/ (source). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!statSync(join(dir, "package.json"), { throwIfNoEntry: false })) dir = dirname(dir);
  return dir;
}

const SRC = join(repoRoot(), "src");

/**
 * Folder → the other folders it may import. A new top-level folder needs a row here (and in docs/design.md's
 * layout table): an import from a folder without one fails the test.
 */
const ALLOWED: Record<string, readonly string[]> = {
  http: [],
  proto: [],
  openapi: ["http", "proto"],
  generator: ["http", "proto", "openapi"],
  runtime: ["http", "proto"],
  api: ["runtime", "http", "proto", "openapi"],
  bot: ["runtime", "http", "proto"],
  sidecar: ["api", "runtime", "http", "proto"],
  web: ["api", "runtime", "http", "proto"],
  scaffold: ["runtime", "http", "proto"],
  cli: ["scaffold", "api", "bot", "sidecar", "web", "runtime", "http", "proto", "openapi"],
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

/** Every module specifier a file names: import/export … from, side-effect imports, import("…") (in code or types). */
export function specifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]!);
  return found;
}

/** The src/ file a relative specifier names (`./x.js` → `x.ts`, `./dir/index.js`), or undefined when outside src/. */
function resolveSpecifier(from: string, spec: string, files: ReadonlySet<string>): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")]) if (files.has(candidate)) return candidate;
  return undefined;
}

function graph(): Map<string, string[]> {
  const files = sources(SRC);
  const set = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const targets = specifiers(readFileSync(file, "utf8"))
      .map((s) => resolveSpecifier(file, s, set))
      .filter((t): t is string => t !== undefined);
    edges.set(file, [...new Set(targets)]);
  }
  return edges;
}

const rel = (file: string): string => relative(SRC, file).split(sep).join("/");
const folderOf = (file: string): string | undefined => {
  const parts = rel(file).split("/");
  return parts.length > 1 ? parts[0] : undefined;
};

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.map(rel).sort());
    }
  };
  for (const v of edges.keys()) if (!indices.has(v)) visit(v);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}


test("no import cycles between files in src/", () => {
  const found = cycles(graph()).map((c) => c.join(" ⇄ "));
  assert.deepEqual(found, [], `import cycles (each line one set of files that import each other):\n  ${found.join("\n  ")}`);
});

test("folders import only the folders below them, and not the root façades", () => {
  const bad: string[] = [];
  for (const [file, targets] of graph()) {
    const from = folderOf(file);
    if (from === undefined) continue;
    for (const target of targets) {
      const to = folderOf(target);
      if (to === undefined) bad.push(`${rel(file)} → ${rel(target)} (a root façade)`);
      else if (to !== from && !(ALLOWED[from] ?? []).includes(to)) {
        bad.push(`${rel(file)} → ${rel(target)} (${from} may import ${(ALLOWED[from] ?? []).join(", ") || "no other folder"}${ALLOWED[from] ? "" : ": add its row to ALLOWED"})`);
      }
    }
  }
  assert.deepEqual(bad, [], `imports against the folder arrows:\n  ${bad.join("\n  ")}`);
});

/** The runtime's sub-folder (`runtime/client`, `runtime/broker`, …) a file lives in, or undefined (src/runtime/*.ts, other folders). */
const runtimeFolderOf = (file: string): string | undefined => {
  const parts = rel(file).split("/");
  return parts[0] === "runtime" && parts.length > 2 ? parts[1] : undefined;
};

/** Runtime sub-folder → the runtime sub-folders its files import (an `index.ts` re-export counts like any import). */
export function runtimeFolderGraph(edges: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const folders = new Map<string, Set<string>>();
  for (const [file, targets] of edges) {
    const from = runtimeFolderOf(file);
    if (from === undefined) continue;
    const set = folders.get(from) ?? new Set<string>();
    folders.set(from, set);
    for (const target of targets) {
      const to = runtimeFolderOf(target);
      if (to !== undefined && to !== from) set.add(to);
    }
  }
  return new Map([...folders].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
}

test("the runtime's sub-folders import each other without a cycle", () => {
  const folders = runtimeFolderGraph(graph());
  if (process.env["MICRO_PRINT_ARROWS"]) for (const [from, to] of folders) console.log(`runtime/${from} → ${to.join(", ") || "nothing"}`);
  const found = cycles(new Map([...folders].map(([k, v]) => [join(SRC, "runtime", k, "_"), v.map((t) => join(SRC, "runtime", t, "_"))])))
    .map((c) => c.map((f) => f.replace(/\/_$/, "")).join(" ⇄ "));
  const witnesses = (c: string): string[] => {
    const names = new Set(c.split(" ⇄ ").map((f) => f.split("/")[1]!));
    const out: string[] = [];
    for (const [file, targets] of graph()) {
      const from = runtimeFolderOf(file);
      if (from === undefined || !names.has(from)) continue;
      for (const t of targets) {
        const to = runtimeFolderOf(t);
        if (to !== undefined && to !== from && names.has(to)) out.push(`${rel(file)} → ${rel(t)}`);
      }
    }
    return out;
  };
  assert.deepEqual(found, [], `runtime folder cycles:\n  ${found.map((c) => `${c}\n    ${witnesses(c).join("\n    ")}`).join("\n  ")}`);
});

test("the checker sees every kind of import", () => {
  const text = [
    'import a from "./a.js";',
    'import type { B } from "./b.js";',
    'export * from "./c.js";',
    'export { d, type E } from "./d.js";',
    'import "./e.js";',
    'const f = await import("./f.js");',
    'let g: import("./g.js").G;',
    "import {\n  h,\n  i,\n} from \"./h.js\";",
    '// import x from "./commented.js";',
  ].join("\n");
  assert.deepEqual(specifiers(text).sort(), ["./a.js", "./b.js", "./c.js", "./d.js", "./e.js", "./f.js", "./g.js", "./h.js"]);
  const edges = new Map([["/x/a", ["/x/b"]], ["/x/b", ["/x/a"]], ["/x/c", ["/x/c"]], ["/x/d", []]]);
  assert.equal(cycles(edges).length, 2);
});
