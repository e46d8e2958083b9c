/**
 * `micro new`: derive the names, render the template, install, generate, and say what to do next.
 */
import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { checkPluginAddresses, checkPluginNames, readConfig } from "../runtime/config/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { UsageError } from "../runtime/errors/usage.js";
import { deriveNames, type ProjectNames, type ProjectType } from "./names.js";
import { commonTemplateDir, microTsSpecifier, projectVersions, templateDir } from "./package-root.js";
import { formatTree, renderProject } from "./render.js";
import { npmCommand, runStep, StepError } from "./steps.js";

/** Runtime configuration baked into the project's `.env` (read by `npm start`). */
export interface ProjectConfig {
  registry?: string;
  registry_address?: string;
  broker?: string;
  broker_address?: string;
  transport?: string;
}

export interface NewProjectOptions {
  name: string;
  type?: ProjectType;
  namespace?: string;
  fqdn?: string;
  alias?: string;
  /** Where to create the project (default `./<name>`), relative to `cwd`. */
  dir?: string;
  /** Install dependencies and generate code (default true). */
  install?: boolean;
  config?: ProjectConfig;
  /** Base for a relative `dir` (default `process.cwd()`). */
  cwd?: string;
  /** Where the tree and next steps go (default stdout). */
  out?: (text: string) => void;
  /** Print the next steps at the end (default true). */
  nextSteps?: boolean;
}

/** The result of {@link newProject}. */
export interface NewProjectResult {
  dir: string;
  files: string[];
  names: ProjectNames;
}

const ENV_KEYS: Record<keyof ProjectConfig, string> = {
  registry: "MICRO_REGISTRY",
  registry_address: "MICRO_REGISTRY_ADDRESS",
  broker: "MICRO_BROKER",
  broker_address: "MICRO_BROKER_ADDRESS",
  transport: "MICRO_TRANSPORT",
};

/**
 * The `--namespace` under which `micro api` maps /<alias>/call to this service (it calls `<ns>.<alias>`), or
 * null when the service's name does not end in its alias.
 */
function gatewayNamespace(names: ProjectNames): string | null {
  if (names.fqdn === names.alias) return "";
  return names.fqdn.endsWith(`.${names.alias}`) ? names.fqdn.slice(0, -names.alias.length - 1) : null;
}

/** Everything a template can refer to. */
export function templateContext(names: ProjectNames, config: ProjectConfig = {}, namespace?: string) {
  const dev = projectVersions();
  const env = (Object.keys(ENV_KEYS) as (keyof ProjectConfig)[])
    .filter((key) => config[key] !== undefined && config[key] !== "")
    .map((key) => ({ key: ENV_KEYS[key], value: config[key]! }));
  for (const { value } of env) {
    if (/[\r\n]/.test(value)) throw new UsageError(`configuration values cannot span lines: ${JSON.stringify(value)}`);
  }
  return {
    ...names,
    // The backend an API project calls: the service `micro new <name>` creates with the same namespace.
    backendFqdn: namespace ? `${namespace}.service.${names.alias}` : names.name,
    microTs: microTsSpecifier(),
    versions: {
      buf: dev["@bufbuild/buf"] ?? "^1.0.0",
      protobuf: dev["@bufbuild/protobuf"] ?? "^2.0.0",
      tsProto: dev["ts-proto"] ?? "^2.0.0",
      typescript: dev["typescript"] ?? "^5.0.0",
      typesNode: dev["@types/node"] ?? "^20.0.0",
    },
    gatewayNamespace: gatewayNamespace(names),
    // Service and API projects generate code from their protos; a bot command uses micro-ts/bot's.
    generates: names.type !== "bot",
    namespace: namespace ?? null,
    env,
    config,
  };
}

/**
 * The plugins and addresses a project is created with, checked as every other command checks them: an unknown
 * plugin or a malformed address is a usage error, before anything is written.
 */
export function checkProjectConfig(config: ProjectConfig = {}): void {
  const argv: string[] = [];
  for (const key of Object.keys(ENV_KEYS) as (keyof ProjectConfig)[]) {
    const v = config[key];
    if (v !== undefined && v !== "") argv.push(`--${key}`, v);
  }
  try {
    const values = readConfig(argv, {});
    checkPluginNames(values);
    checkPluginAddresses(values);
  } catch (error) {
    if (error instanceof MicroError && error.code === 400) throw new UsageError(error.detail);
    throw error;
  }
}

/** `dir` as the user best reads it: relative below the working directory, absolute elsewhere. */
function display(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? dir : rel;
}

/**
 * The gateway path that reaches a service project's `<Pascal>Service.Call` (`/hello/call` → service `hello`,
 * `Hello.Call`, else `HelloService.Call`), with the `--namespace` it needs; null when Go Micro's path mapping
 * cannot name this service.
 */
function gatewayRoute(names: ProjectNames): { namespace: string; path: string } | null {
  const dot = names.fqdn.lastIndexOf(".");
  const last = names.fqdn.slice(dot + 1);
  const camel = last
    .split(/[-_]/)
    .filter((p) => p !== "")
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join("");
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(last) || camel !== names.pascal) return null;
  return { namespace: dot < 0 ? "" : names.fqdn.slice(0, dot), path: `/${last}/call` };
}

function nextSteps(dir: string, names: ProjectNames, installed: boolean): string {
  const rel = display(dir);
  const lines = ["", "Next steps:", `  cd ${rel.includes(" ") ? JSON.stringify(rel) : rel}`];
  if (!installed) lines.push("  npm install", "  npm run generate         # buf generate: ts-proto + protoc-gen-micro into src/gen");
  lines.push("  npm run build && npm start");
  const service = `${names.pascal}Service`;
  if (names.type === "bot") {
    lines.push(
      `  micro bot --inputs http --allow_users '*'   # in another terminal (README.md: Slack set-up)`,
      `  curl -s localhost:8083/message -d '{"user":"me","text":"${names.fqdn.split(".").pop()} hello"}'`,
    );
  } else if (names.type === "api") {
    const ns = gatewayNamespace(names);
    if (ns === null) {
      lines.push(`  micro api --handler api   # routes /<path>/call to <namespace>.<path>: ${names.fqdn} must match that (README.md)`);
    } else {
      lines.push(
        `  micro api --handler api${ns ? ` --namespace ${ns}` : ""}   # in another terminal, with the backend running (README.md)`,
        `  curl -s localhost:8080/${names.alias}/call -d '{"name":"John"}'`,
      );
    }
  } else {
    lines.push(`  micro call ${names.fqdn} ${service}.Call '{"name":"John"}'   # in another terminal`);
    const route = gatewayRoute(names);
    if (route) lines.push(`  micro api${route.namespace ? ` --namespace ${route.namespace}` : ""}   # the HTTP gateway, in another terminal`, `  curl -s localhost:8080${route.path} -d '{"name":"John"}'`);
  }
  lines.push("  npm test");
  return lines.join("\n") + "\n";
}

/**
 * Create a project. Throws UsageError for a bad name, Error when the target is taken (nothing written) or
 * a step fails (the rendered project is left in place and the message says what to run).
 */
export async function newProject(options: NewProjectOptions): Promise<NewProjectResult> {
  const out = options.out ?? ((text: string) => void process.stdout.write(text));
  const type = options.type ?? "service";
  const names = deriveNames(options.name, { type, alias: options.alias, namespace: options.namespace, fqdn: options.fqdn });
  checkProjectConfig(options.config);
  const dir = resolve(options.cwd ?? process.cwd(), options.dir ?? options.name);
  const template = templateDir(type);
  if (!existsSync(template)) throw new Error(`no template for type "${type}" (looked in ${template})`);

  const files = await renderProject([commonTemplateDir, template], dir, templateContext(names, options.config, options.namespace));
  out(`Created ${type} ${names.fqdn} in ${dir}\n\n${formatTree(display(dir), files)}\n`);

  const install = options.install ?? true;
  if (install) {
    try {
      // --ignore-scripts: a `file:` micro-ts checkout must not be rebuilt by its `prepare` script (it is
      // built already, and may be in use); @bufbuild/buf works without its optional postinstall.
      await runStep("Installing dependencies (npm install)", npmCommand, ["install", "--no-audit", "--no-fund", "--ignore-scripts"], dir);
      await runStep("Generating code (npm run generate)", npmCommand, ["run", "generate"], dir);
    } catch (error) {
      if (!(error instanceof StepError)) throw error;
      const tail = error.tail ? `\n--- last lines of output ---\n${error.tail}\n---` : "";
      throw new Error(
        `${error.message}${tail}\nThe project was written to ${dir}; fix the cause, then run \`npm install && npm run generate\` there.`,
      );
    }
  }
  if (options.nextSteps !== false) out(nextSteps(dir, names, install));
  return { dir, files, names };
}
