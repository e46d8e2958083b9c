/**
 * Where micro-ts itself is (its templates, proto files and version), and how a new project should depend
 * on it: a `file:` dependency on a checkout (so a project installs with no published copy in reach), or
 * the same version range when micro-ts was installed from a registry.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The micro-ts package root (dist/scaffold/ is two levels below it). */
export const packageRoot: string = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

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

/** A checkout has its sources or git metadata; an installed package has neither. */
export function isCheckout(root: string = packageRoot): boolean {
  return existsSync(join(root, ".git")) || existsSync(join(root, "src"));
}

/** The dependency specifier a new project uses for micro-ts. */
export function microTsSpecifier(root: string = packageRoot): string {
  if (isCheckout(root)) return `file:${root}`;
  return `^${readPackage().version}`;
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

/** The micro-ts version. */
export function microTsVersion(): string {
  return readPackage().version;
}
