/**
 * The plugin's run-time dependencies, loaded once, as fast as possible.
 *
 * A plugin run is mostly Node start-up and module loading, so:
 * - protoplugin's entry point is never loaded: it statically imports its transpiler, which loads TypeScript
 *   (several MB) even when only `.ts` is generated. We use its schema, parameter and comment modules directly
 *   and load a transpiler only for `target=js`/`dts` ({@link loadTranspile}, ./transpile.ts);
 * - `npm run build` bundles exactly what is listed in ./deps-manifest.ts into `deps.bundle.cjs` (./bundle.ts),
 *   which this module loads when present;
 * - otherwise (no bundle, or PROTOC_GEN_MICRO_NO_BUNDLE=1) the same functions come from the packages' CommonJS
 *   builds, which Node loads faster than their ESM builds. Only one copy of @bufbuild/protobuf is ever loaded.
 * Types come from the packages' public typings.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DescEnum, DescField, DescFile, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import type { CodeGeneratorRequest, Edition } from "@bufbuild/protobuf/wkt";
import type { EcmaScriptPluginOptions, FileInfo, Schema } from "@bufbuild/protoplugin";
import { BUNDLE_FILE } from "./deps-manifest.js";

type Protobuf = typeof import("@bufbuild/protobuf");
type Wkt = typeof import("@bufbuild/protobuf/wkt");
type Wire = typeof import("@bufbuild/protobuf/wire");

/** The schema controller protoplugin's `createSchema` returns. */
export interface SchemaController extends Schema {
  getFileInfo(): FileInfo[];
  prepareGenerate(target: "ts" | "js" | "dts"): void;
}

/** Comments of a descriptor, as protoplugin's `getComments` reads them from the source info. */
export interface Comments {
  readonly leading?: string;
  readonly trailing?: string;
}

/** Everything the plugin calls at run time (the names listed in ./deps-manifest.ts). */
export interface Deps {
  readonly create: Protobuf["create"];
  readonly fromBinary: Protobuf["fromBinary"];
  readonly toBinary: Protobuf["toBinary"];
  readonly protoInt64: Protobuf["protoInt64"];
  readonly CodeGeneratorRequestSchema: Wkt["CodeGeneratorRequestSchema"];
  readonly CodeGeneratorResponseSchema: Wkt["CodeGeneratorResponseSchema"];
  readonly CodeGeneratorResponse_Feature: Wkt["CodeGeneratorResponse_Feature"];
  readonly Edition: Wkt["Edition"];
  readonly FileDescriptorSetSchema: Wkt["FileDescriptorSetSchema"];
  readonly FileDescriptorProtoSchema: Wkt["FileDescriptorProtoSchema"];
  readonly FileOptionsSchema: Wkt["FileOptionsSchema"];
  readonly MessageOptionsSchema: Wkt["MessageOptionsSchema"];
  readonly FieldOptionsSchema: Wkt["FieldOptionsSchema"];
  readonly OneofOptionsSchema: Wkt["OneofOptionsSchema"];
  readonly EnumOptionsSchema: Wkt["EnumOptionsSchema"];
  readonly EnumValueOptionsSchema: Wkt["EnumValueOptionsSchema"];
  readonly BinaryReader: Wire["BinaryReader"];
  readonly WireType: Wire["WireType"];
  createSchema(
    request: CodeGeneratorRequest,
    parameter: { parsed: EcmaScriptPluginOptions; sanitized: string },
    pluginName: string,
    pluginVersion: string | undefined,
    minimumEdition: Edition,
    maximumEdition: Edition,
  ): SchemaController;
  parseParameter(parameter: string, parseExtra: undefined): { parsed: EcmaScriptPluginOptions; sanitized: string };
  getComments(desc: DescFile | DescMessage | DescService | DescMethod | DescField | DescEnum): Comments;
}

const require = createRequire(import.meta.url);

/** protoplugin's CommonJS build directory. */
function protopluginDir(): string {
  return dirname(require.resolve("@bufbuild/protoplugin"));
}

function loadDeps(): Deps {
  const bundle = join(dirname(fileURLToPath(import.meta.url)), BUNDLE_FILE);
  if (process.env.PROTOC_GEN_MICRO_NO_BUNDLE !== "1" && existsSync(bundle)) return require(bundle) as Deps;
  const pp = protopluginDir();
  return {
    ...(require("@bufbuild/protobuf") as Protobuf),
    ...(require("@bufbuild/protobuf/wkt") as Wkt),
    ...(require("@bufbuild/protobuf/wire") as Wire),
    ...(require(join(pp, "schema.js")) as Pick<Deps, "createSchema">),
    ...(require(join(pp, "parameter.js")) as Pick<Deps, "parseParameter">),
    ...(require(join(pp, "source-code-info.js")) as Pick<Deps, "getComments">),
  };
}

export const deps: Deps = loadDeps();

/** The transpiler for `target=js` / `target=dts` (loads TypeScript, so only when asked). */
export async function loadTranspile(): Promise<typeof import("./transpile.js").transpile> {
  return (await import("./transpile.js")).transpile;
}
