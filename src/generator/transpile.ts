/**
 * `target=js` / `target=dts`: compile the generated TypeScript with the TypeScript that protoplugin pins.
 *
 * protoplugin's own transpiler compiles without any `lib`, which suits protoc-gen-es' output but not ours: the
 * client and handler signatures use `Promise` and `AsyncIterable`, and declaration emit fails when they cannot
 * be resolved. This one uses the same lenient options with the ES2018 library (for `AsyncIterable`), reads the
 * generated files from memory and the library files from TypeScript's own directory. TypeScript is loaded only
 * here, so `target=ts` never pays for it.
 */
import { createRequire } from "node:module";
import type { FileInfo } from "@bufbuild/protoplugin";

/**
 * The part of TypeScript's compiler API used here. The project's own TypeScript is the native compiler without a
 * JavaScript API, so the pinned one's API is described narrowly instead of imported.
 */
interface SourceFile {
  readonly fileName: string;
}
interface Diagnostic {
  readonly category: number;
  readonly code: number;
}
interface CompilerHost {
  getSourceFile(name: string, languageVersion: any, onError?: any, shouldCreate?: boolean): SourceFile | undefined;
  fileExists(name: string): boolean;
  readFile(name: string): string | undefined;
  getCurrentDirectory(): string;
  writeFile(name: string, data: string, ...rest: any[]): void;
}
interface TS {
  readonly ModuleKind: { readonly CommonJS: number; readonly ES2020: number };
  readonly ModuleResolutionKind: { readonly Node10: number };
  readonly NewLineKind: { readonly LineFeed: number };
  readonly ModuleDetectionKind: { readonly Force: number };
  readonly ScriptTarget: { readonly ES2018: number };
  readonly DiagnosticCategory: { readonly Error: number };
  createCompilerHost(options: object): CompilerHost;
  createSourceFile(name: string, text: string, languageVersion: any, setParentNodes: boolean): SourceFile;
  createProgram(init: { rootNames: string[]; options: object; host: CompilerHost }): {
    emit(): { emitSkipped: boolean; diagnostics: readonly Diagnostic[] };
  };
  getPreEmitDiagnostics(program: unknown): readonly Diagnostic[];
  formatDiagnostics(diagnostics: readonly Diagnostic[], host: object): string;
}

/** A virtual directory for the in-memory sources, so output names map back to them. */
const ROOT = "/__protoc_gen_micro__/";

function loadTypeScript(): TS {
  // protoplugin depends on a pinned TypeScript with a JavaScript API; resolve it from there.
  const fromProtoplugin = createRequire(createRequire(import.meta.url).resolve("@bufbuild/protoplugin"));
  return fromProtoplugin("typescript") as TS;
}

/** Transpile the generated `.ts` files to `.js` and/or `.d.ts` (names relative to the output root). */
export function transpile(files: readonly FileInfo[], js: boolean, dts: boolean, jsImportStyle: "module" | "legacy_commonjs"): FileInfo[] {
  const ts = loadTypeScript();
  const options = {
    strict: false,
    module: jsImportStyle === "legacy_commonjs" ? ts.ModuleKind.CommonJS : ts.ModuleKind.ES2020,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    noResolve: true,
    resolveJsonModule: false,
    emitBOM: false,
    newLine: ts.NewLineKind.LineFeed,
    allowJs: false,
    lib: ["lib.es2018.d.ts"],
    moduleDetection: ts.ModuleDetectionKind.Force,
    target: ts.ScriptTarget.ES2018,
    skipLibCheck: true,
    declaration: dts,
    emitDeclarationOnly: dts && !js,
  };
  // The transpiler resolves no imports, so `satisfies ServiceDefinition` would check against an unknown type and
  // the declaration would lose the definition's own type. `satisfies` changes no emitted JavaScript; without it,
  // the declaration is the literal's type, which the generated code spells out (`as MessageCodec<T>`).
  const sources = new Map(files.map((f): [string, string] => [ROOT + f.name, f.content.replace(/^\} as const satisfies [\w$]+;$/gm, "} as const;")]));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const text = sources.get(name);
    return text !== undefined ? ts.createSourceFile(name, text, languageVersion, true) : getSourceFile(name, languageVersion, onError, shouldCreate);
  };
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (name) => sources.has(name) || fileExists(name);
  host.readFile = (name) => sources.get(name) ?? readFile(name);
  host.getCurrentDirectory = () => ROOT;

  const out: FileInfo[] = [];
  host.writeFile = (name, data) => {
    if (!name.startsWith(ROOT)) throw new Error(`transpile: unexpected output file ${name}`);
    const relative = name.substring(ROOT.length);
    const source = files.find((f) => f.name === relative.replace(/\.(d\.ts|js)$/, ".ts"));
    out.push({ name: relative, content: relative.endsWith(".d.ts") && source ? restoreTypeImports(source.content, data) : data });
  };
  const program = ts.createProgram({ rootNames: [...sources.keys()], options, host });
  const result = program.emit();
  if (result.emitSkipped) {
    const text = ts.formatDiagnostics(result.diagnostics.slice(0, 5), {
      getCanonicalFileName: (f: string) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => "\n",
    });
    throw new Error(`transpiling the generated TypeScript failed (please report this):\n${text}`);
  }
  return out;
}

/**
 * Without resolved imports, declaration emit drops type imports that only the copied `as MessageCodec<T>` nodes
 * use. Put back every type-only import specifier of the source whose local name the declaration file uses.
 */
function restoreTypeImports(source: string, declaration: string): string {
  const importLine = /^import type \{ ([^}]*) \} from ("[^"]*");$/gm;
  const wanted = new Map<string, string[]>();
  for (const m of source.matchAll(importLine)) wanted.set(m[2]!, m[1]!.split(", "));
  const lines = declaration.split("\n");
  const body = lines.filter((l) => !l.startsWith("import ")).join("\n");
  const used = (specifier: string): boolean => new RegExp(`(^|[^\\w$])${specifier.split(" as ").pop()!.replace(/\$/g, "\\$")}([^\\w$]|$)`).test(body);
  const seen = new Set<string>();
  const patched = lines.map((line) => {
    const m = /^import type \{ ([^}]*) \} from ("[^"]*");$/.exec(line);
    if (m === null || !wanted.has(m[2]!)) return line;
    seen.add(m[2]!);
    const specifiers = wanted.get(m[2]!)!.filter((s) => m[1]!.split(", ").includes(s) || used(s));
    return `import type { ${specifiers.join(", ")} } from ${m[2]};`;
  });
  // A module whose type import was dropped entirely comes back after the last import.
  const missing = [...wanted].filter(([from, specifiers]) => !seen.has(from) && specifiers.some(used));
  if (missing.length > 0) {
    let last = -1;
    patched.forEach((l, i) => {
      if (l.startsWith("import ")) last = i;
    });
    const added = missing.map(([from, specifiers]) => `import type { ${specifiers.filter(used).join(", ")} } from ${from};`);
    patched.splice(last + 1, 0, ...added);
  }
  return patched.join("\n");
}
