/**
 * The plugin's options: protoplugin's standard ones (validated here so that every error names the option and
 * what it accepts), protoc-gen-micro's own (`messages`, `runtime_import`), and the ts-proto options that change
 * the names or paths ts-proto writes (spelled exactly as ts-proto spells them, so one `opt` list can serve both
 * plugins).
 */

/** Which library writes the message types the generated code imports. */
export type MessageLibrary = "ts-proto" | "protobuf-es";

/** The ts-proto options that decide the file paths and exported names of ts-proto's output. */
export interface TsProtoNaming {
  /** `fileSuffix`: appended to the base name of every file ts-proto writes (`greeter.pb.ts` for `.pb`). */
  readonly fileSuffix: string;
  /** `useSnakeTypeName`: nested types are `Outer_Inner` (true, ts-proto's default) or `OuterInner`. */
  readonly useSnakeTypeName: boolean;
  /** `snakeToCamel` contains `keys`: type names with `_` are camel-cased (`hello_request` → `helloRequest`). */
  readonly snakeToCamelKeys: boolean;
  readonly typePrefix: string;
  readonly typeSuffix: string;
  readonly messagePrefix: string;
  readonly messageSuffix: string;
}

/** protoc-gen-micro's own options, after validation. */
export interface MicroOptions {
  readonly messages: MessageLibrary;
  /** Where the runtime is imported from (default `micro-ts`); protobuf-es codecs come from `<runtime_import>/protobuf-es`. */
  readonly runtimeImport: string;
  readonly tsProto: TsProtoNaming;
  /** `openapi=true`: also write `<file>.openapi.json` (OpenAPI 3.1) per file with services (default false). */
  readonly openapi: boolean;
  /** `openapi_service=<name>`: the registry name the document's rpc routes use (default: from the proto service name). */
  readonly openapiService?: string;
}

/** A bad plugin option: the message names the option and what it accepts. */
export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}

const booleans = ["true", "false", "1", "0"];

/** protoplugin's standard options and their accepted values (`undefined`: free-form, checked below). */
const standard: Record<string, readonly string[] | undefined> = {
  target: undefined,
  import_extension: ["none", "js", "ts", ".js", ".ts", ""],
  js_import_style: ["module", "legacy_commonjs"],
  ts_nocheck: booleans,
  elide_plugin_version: booleans,
  bootstrap_wkt: booleans,
  keep_empty_files: booleans,
  rewrite_imports: undefined,
  map_imports: undefined,
};

/** The ts-proto naming options we understand; `importSuffix` is mapped onto `import_extension`. */
const tsProtoStrings = ["fileSuffix", "typePrefix", "typeSuffix", "messagePrefix", "messageSuffix"] as const;

/** ts-proto options that would leave the codecs without the functions they call. */
const tsProtoBreaking: Record<string, string> = {
  onlyTypes: "true",
  outputEncodeMethods: "false",
  outputJsonMethods: "false",
};

const ownOptions = ["messages", "runtime_import", "openapi", "openapi_service"];
const tsProtoOptions = [...tsProtoStrings, "importSuffix", "useSnakeTypeName", "snakeToCamel"];

/** Every option name the plugin accepts, for error messages. */
export const acceptedOptions: readonly string[] = [...Object.keys(standard), ...ownOptions, ...tsProtoOptions];

interface RawOption {
  readonly key: string;
  readonly value: string;
}

/**
 * The options in the parameter. Empty entries (a trailing comma, `a,,b`, a leading comma) are skipped, as
 * ts-proto skips them, so that an `opt` list ts-proto accepts is accepted here too. (protoc-gen-es 2.x
 * refuses them with `invalid option ""`; the parameter handed on to protoplugin never contains one.)
 */
function split(parameter: string): RawOption[] {
  return parameter
    .split(",")
    .filter((raw) => raw !== "")
    .map((raw) => {
      const i = raw.indexOf("=");
      return i < 0 ? { key: raw, value: "" } : { key: raw.substring(0, i), value: raw.substring(i + 1) };
    });
}

function accepted(values: readonly string[]): string {
  return values.map((v) => (v === "" ? '""' : v)).join(", ");
}

function bool(key: string, value: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new OptionError(`invalid value "${value}" for option "${key}": accepted values are true, false`);
}

/**
 * Validate the whole parameter string and return protoc-gen-micro's options together with the parameter to
 * hand to protoplugin (standard options only; `target=ts` added when absent, since the product is `.micro.ts`).
 */
export function parseOptions(parameter: string): { micro: MicroOptions; standardParameter: string } {
  let messages: MessageLibrary = "ts-proto";
  let runtimeImport = "micro-ts";
  let openapi = false;
  let openapiService: string | undefined;
  const ts: { -readonly [K in keyof TsProtoNaming]: TsProtoNaming[K] } = {
    fileSuffix: "",
    useSnakeTypeName: true,
    snakeToCamelKeys: true,
    typePrefix: "",
    typeSuffix: "",
    messagePrefix: "",
    messageSuffix: "",
  };
  const tsProtoGiven: string[] = [];
  const passOn: string[] = [];
  let importExtensionGiven: string | undefined;
  let importSuffixGiven: string | undefined;
  let hasTarget = false;

  for (const { key, value } of split(parameter)) {
    if (Object.prototype.hasOwnProperty.call(standard, key)) {
      const values = standard[key];
      if (values !== undefined && !values.includes(value)) {
        throw new OptionError(`invalid value "${value}" for option "${key}": accepted values are ${accepted(values)}`);
      }
      if (key === "target") {
        hasTarget = true;
        for (const t of value.split("+")) {
          if (t !== "ts" && t !== "js" && t !== "dts") {
            throw new OptionError(`invalid value "${value}" for option "target": accepted values are ts, js, dts, joined by + (e.g. js+dts)`);
          }
        }
      }
      if ((key === "rewrite_imports" || key === "map_imports") && value.indexOf(":") < 1) {
        throw new OptionError(`invalid value "${value}" for option "${key}": expected <pattern>:<target>`);
      }
      if (key === "import_extension") importExtensionGiven = value;
      passOn.push(`${key}=${value}`);
      continue;
    }
    switch (key) {
      case "messages":
        if (value !== "ts-proto" && value !== "protobuf-es") {
          throw new OptionError(`invalid value "${value}" for option "messages": accepted values are ts-proto, protobuf-es`);
        }
        messages = value;
        continue;
      case "runtime_import":
        if (value.trim() === "" || value !== value.trim() || value.includes(":")) {
          throw new OptionError(`invalid value "${value}" for option "runtime_import": expected a module specifier, e.g. micro-ts`);
        }
        runtimeImport = value.replace(/\/$/, "");
        continue;
      case "openapi":
        openapi = bool(key, value);
        continue;
      case "openapi_service":
        if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) {
          throw new OptionError(`invalid value "${value}" for option "openapi_service": expected a service name as registered, e.g. greeter or com.example.greeter`);
        }
        openapiService = value;
        continue;
      case "fileSuffix":
      case "typePrefix":
      case "typeSuffix":
      case "messagePrefix":
      case "messageSuffix":
        if (!/^[A-Za-z0-9_.$-]*$/.test(value)) {
          throw new OptionError(`invalid value "${value}" for option "${key}": use letters, digits, "_", "$", "." or "-"`);
        }
        if (key === "fileSuffix" && value === ".micro") {
          throw new OptionError(`invalid value ".micro" for option "fileSuffix": ts-proto's files would overwrite the .micro.ts files`);
        }
        ts[key] = value;
        tsProtoGiven.push(key);
        continue;
      case "useSnakeTypeName":
        ts.useSnakeTypeName = bool(key, value);
        tsProtoGiven.push(key);
        continue;
      case "snakeToCamel": {
        // ts-proto: true = keys+json, false = none, otherwise a "_"-separated list of keys/json.
        const parts = value === "true" ? ["keys", "json"] : value === "false" ? [] : value.split("_");
        if (parts.some((p) => p !== "keys" && p !== "json")) {
          throw new OptionError(`invalid value "${value}" for option "snakeToCamel": accepted values are true, false, keys, json, keys_json`);
        }
        ts.snakeToCamelKeys = parts.includes("keys");
        tsProtoGiven.push(key);
        continue;
      }
      case "importSuffix":
        if (value !== "" && value !== ".js" && value !== ".ts") {
          throw new OptionError(`invalid value "${value}" for option "importSuffix": accepted values are "", .js, .ts`);
        }
        importSuffixGiven = value;
        tsProtoGiven.push(key);
        continue;
    }
    if (/^M.+\.proto$/.test(key)) {
      throw new OptionError(`unsupported option "${key}=${value}": ts-proto's module mapping (M<file>=<module>) is not supported by protoc-gen-micro`);
    }
    if (Object.prototype.hasOwnProperty.call(tsProtoBreaking, key)) {
      throw new OptionError(
        `unsupported option "${key}=${value}": the generated codecs call ts-proto's encode, decode, fromJSON and toJSON; ` +
          `leave ${Object.keys(tsProtoBreaking).join(", ")} at their defaults`,
      );
    }
    throw new OptionError(`unknown option "${key}": accepted options are ${acceptedOptions.join(", ")}`);
  }

  if (messages === "protobuf-es" && tsProtoGiven.length > 0) {
    throw new OptionError(`option "${tsProtoGiven[0]}" applies to messages=ts-proto only; remove it or set messages=ts-proto`);
  }
  if (importSuffixGiven !== undefined) {
    const asExtension = importSuffixGiven === "" ? "none" : importSuffixGiven.substring(1);
    if (importExtensionGiven !== undefined && importExtensionGiven.replace(/^\./, "").replace(/^$/, "none") !== asExtension) {
      throw new OptionError(`options "importSuffix=${importSuffixGiven}" and "import_extension=${importExtensionGiven}" disagree; give one of them`);
    }
    if (importExtensionGiven === undefined) passOn.push(`import_extension=${asExtension}`);
  }
  if (!hasTarget) passOn.unshift("target=ts");
  return { micro: { messages, runtimeImport, tsProto: ts, openapi, ...(openapiService !== undefined ? { openapiService } : {}) }, standardParameter: passOn.join(",") };
}
