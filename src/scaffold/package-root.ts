/**
 * Where micro-ts itself is (its templates, proto files and version), and how a new project should depend
 * on it: a `file:` dependency on a checkout (so a project installs with no published copy in reach), or
 * the same version range when micro-ts was installed from a registry.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

/**
 * The micro-ts package root: the nearest folder above this file whose package.json is micro-ts' (this file
 * runs from dist/scaffold/ when installed, and from build/src/scaffold/ in the tests).
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "micro-ts") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`micro-ts: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const packageRoot: string = findPackageRoot();

interface PackageJson {
  version: string;
  devDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
}

function readPackage(): PackageJson {
  return JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as PackageJson;
}

/** The template folder of a project type. */
export function templateDir(type: string): string {
  return join(packageRoot, "templates", type);
}

/** The files every project type shares (Dockerfile, tsconfig, buf.gen.yaml, dot files), rendered under each type's own. */
export const commonTemplateDir: string = templateDir("common");

/** A checkout has its sources or git metadata; an installed package has neither. */
export function isCheckout(root: string = packageRoot): boolean {
  return existsSync(join(root, ".git")) || existsSync(join(root, "src"));
}

/** The dependency specifier a new project uses for micro-ts. */
export function microTsSpecifier(root: string = packageRoot): string {
  if (isCheckout(root)) return `file:${root}`;
  return `^${(JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson).version}`;
}

/**
 * The versions a new project installs, the same micro-ts itself builds with: the tools (devDependencies)
 * and @bufbuild/protobuf, which ts-proto's generated code imports at run time.
 */
export function projectVersions(): Record<string, string> {
  const pkg = readPackage();
  const own = { ...pkg.devDependencies, ...pkg.dependencies };
  const pick = ["@bufbuild/buf", "@bufbuild/protobuf", "@types/node", "ts-proto", "typescript"];
  return Object.fromEntries(pick.filter((name) => own[name]).map((name) => [name, own[name]!]));
}
