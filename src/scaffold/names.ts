/**
 * The names a project is rendered with, all derived from the one the user typed: `hello-world` gives the
 * alias `hello_world` (proto package and file names), the identifier `HelloWorld`, and so on.
 */
import { UsageError } from "../runtime/errors/usage.js";

/** Project types, one template folder each. */
export type ProjectType = "service" | "api" | "bot";

/** What a template sees. */
export interface ProjectNames {
  /** As typed: `hello-world`, `com.example.srv.foo`. */
  readonly name: string;
  /** lower_snake, safe for proto packages, directories and file names: `hello_world`, `foo`. */
  readonly alias: string;
  /** PascalCase identifier: `HelloWorld`. */
  readonly pascal: string;
  /** camelCase identifier: `helloWorld`. */
  readonly camel: string;
  /** The name the service registers as: `hello-world`, `com.example.service.foo`, `api.greeter` (API). */
  readonly fqdn: string;
  /** The npm package name of the project: `hello-world`. */
  readonly packageName: string;
  readonly type: ProjectType;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)*$/;
const ALIAS = /^[a-z][a-z0-9_]*$/;
const FQDN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Check a project name.
 * @throws UsageError saying which characters are allowed.
 */
export function validateName(name: string): void {
  if (!NAME.test(name)) {
    throw new UsageError(
      `invalid project name "${name}": use letters, digits, "-", "_" and "." only, each dot-separated part starting ` +
        `with a letter (e.g. greeter, hello-world, com.example.srv.foo)`,
    );
  }
}

/** Split into words at `-`, `_`, `.` and lower→upper case changes: `helloWorld-x` → hello, world, x. */
function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[-_.\s]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

const capitalize = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

/** Options that override derived names. */
export interface NameOptions {
  type?: ProjectType;
  alias?: string;
  namespace?: string;
  fqdn?: string;
}

/**
 * Every name a template needs, derived from `name` and the overrides.
 * @throws UsageError for an invalid name, alias, namespace or fqdn.
 */
export function deriveNames(name: string, options: NameOptions = {}): ProjectNames {
  validateName(name);
  const type = options.type ?? "service";
  // The alias is the last dot-separated part, as Go Micro takes the last path element.
  const aliasSource = options.alias ?? name.split(".").pop()!;
  const aliasWords = words(aliasSource);
  const alias = aliasWords.join("_");
  if (!ALIAS.test(alias)) {
    throw new UsageError(`invalid alias "${aliasSource}": it must start with a letter and hold letters, digits, "-" or "_"`);
  }
  if (options.namespace !== undefined && !NAME.test(options.namespace)) {
    throw new UsageError(`invalid namespace "${options.namespace}": use dot-separated parts of letters, digits, "-" and "_" (e.g. com.example)`);
  }
  if (options.fqdn !== undefined && !FQDN.test(options.fqdn)) {
    throw new UsageError(`invalid fqdn "${options.fqdn}": use letters, digits, ".", "-" and "_"`);
  }
  // An API service needs a name of its own beside the backend `micro new <name>` creates: `api.<alias>`,
  // so that `micro api --namespace api` maps /<alias>/call to it (Go Micro's go.micro.api.<alias>).
  // A bot command registers under the bot's namespace: `micro.bot.<alias>` is the command <alias> (Go Micro's go.micro.bot).
  const fqdn =
    options.fqdn ?? (options.namespace ? `${options.namespace}.${type}.${alias}` : type === "api" ? `api.${alias}` : type === "bot" ? `micro.bot.${alias}` : name);
  const pascal = aliasWords.map(capitalize).join("");
  return {
    name,
    alias,
    pascal,
    camel: pascal.charAt(0).toLowerCase() + pascal.slice(1),
    fqdn,
    packageName: name.toLowerCase(),
    type,
  };
}
