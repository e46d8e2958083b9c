/**
 * Loads the parts of @bufbuild/protoplugin the plugin uses, without its package entry point.
 *
 * Why: protoplugin's entry point statically imports its transpiler, which loads TypeScript (several MB of
 * JavaScript) on every run, even when only `.ts` files are asked for. Start-up time is most of a plugin's run,
 * so we load protoplugin's own modules (schema, parameter, source-code-info) from its build directly and
 * load the transpiler only for `target=js` or `target=dts`. The types come from the public entry point; the
 * paths are exercised by the tests against the installed version.
 */
import { requireProtoplugin } from "./deps.js";
import type { DescFile, DescMessage, DescService, DescMethod } from "@bufbuild/protobuf";
import type { CodeGeneratorRequest } from "@bufbuild/protobuf/wkt";
import type { Edition } from "@bufbuild/protobuf/wkt";
import type { EcmaScriptPluginOptions, FileInfo, Schema } from "@bufbuild/protoplugin";

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

export interface Protoplugin {
  parseParameter(parameter: string, parseExtra: undefined): { parsed: EcmaScriptPluginOptions; sanitized: string };
  createSchema(
    request: CodeGeneratorRequest,
    parameter: { parsed: EcmaScriptPluginOptions; sanitized: string },
    pluginName: string,
    pluginVersion: string | undefined,
    minimumEdition: Edition,
    maximumEdition: Edition,
  ): SchemaController;
  getComments(desc: DescFile | DescMessage | DescService | DescMethod): Comments;
}

type Transpile = (files: FileInfo[], js: boolean, dts: boolean, jsImportStyle: "module" | "legacy_commonjs") => FileInfo[];

/** protoplugin's schema, parameter and comment modules (no TypeScript). */
export function loadProtoplugin(): Protoplugin {
  const schema = requireProtoplugin<Pick<Protoplugin, "createSchema">>("schema.js");
  const parameter = requireProtoplugin<Pick<Protoplugin, "parseParameter">>("parameter.js");
  const comments = requireProtoplugin<Pick<Protoplugin, "getComments">>("source-code-info.js");
  return { createSchema: schema.createSchema, parseParameter: parameter.parseParameter, getComments: comments.getComments };
}

/** protoplugin's transpiler (loads TypeScript); only for `target=js` / `target=dts`. */
export function loadTranspile(): Transpile {
  return requireProtoplugin<{ transpile: Transpile }>("transpile.js").transpile;
}
