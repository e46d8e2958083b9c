/**
 * Where each message library writes a message and what it calls it, so that the generated file imports
 * exactly what the library exports.
 *
 * ts-proto (checked against ts-proto 2.x output):
 * - file: the proto path without `.proto`, plus `fileSuffix`, plus `.ts` — for every file, including the
 *   well-known types (`google/protobuf/timestamp.ts`, written locally by ts-proto);
 * - name: each level is camel-cased when `snakeToCamel` contains `keys` and the name has a `_`
 *   (`hello_request` → `helloRequest`); nested levels are joined with `_` (`useSnakeTypeName`, default) or
 *   nothing; then `typePrefix + messagePrefix + name + messageSuffix + typeSuffix`; a result of exactly
 *   `Date` or `Function` becomes `DateMessage` / `FunctionMessage`;
 * - one export per message is both the interface and the `MessageFns` value.
 *
 * protobuf-es (protoc-gen-es v2): protoplugin resolves it (`<name>_pb.ts`, `Outer_Inner`, `Outer_InnerSchema`,
 * reserved names escaped, well-known types from `@bufbuild/protobuf/wkt`).
 */
import type { DescMessage } from "@bufbuild/protobuf";
import type { GeneratedFile, ImportSymbol } from "@bufbuild/protoplugin";
import type { MicroOptions, TsProtoNaming } from "./options.js";

/** How the generated file refers to one message type. */
export interface MessageRef {
  /** The TypeScript type of the message. */
  readonly type: ImportSymbol;
  /** The codec expression's parts: the runtime helper and its arguments before `fields`. */
  readonly codec: readonly (ImportSymbol | string)[];
}

/** ts-proto's `snakeToCamel` for a name with an underscore. */
function snakeToCamel(s: string): string {
  const hasLowerCase = /[a-z]/.test(s);
  return s
    .split("_")
    .map((word, i) => {
      const w = hasLowerCase ? word : word.toLowerCase();
      return i === 0 ? w : w.substring(0, 1).toUpperCase() + w.substring(1);
    })
    .join("");
}

/** The name ts-proto exports for a message. */
export function tsProtoMessageName(desc: DescMessage, naming: TsProtoNaming): string {
  const levels: string[] = [];
  for (let d: DescMessage | undefined = desc; d !== undefined; d = d.parent) levels.unshift(d.name);
  const joined = levels
    .map((n) => (naming.snakeToCamelKeys && n.includes("_") ? snakeToCamel(n) : n))
    .join(naming.useSnakeTypeName ? "_" : "");
  const wrapped = naming.typePrefix + naming.messagePrefix + joined + naming.messageSuffix + naming.typeSuffix;
  return wrapped === "Date" || wrapped === "Function" ? `${wrapped}Message` : wrapped;
}

/** The import path (project-relative, `.js`) of the file ts-proto writes for a proto file. */
export function tsProtoModule(desc: DescMessage, naming: TsProtoNaming): string {
  return `./${desc.file.name}${naming.fileSuffix}.js`;
}

/** Resolves messages for the configured library, in one generated file. */
export function messageResolver(f: GeneratedFile, options: MicroOptions): (desc: DescMessage) => MessageRef {
  if (options.messages === "protobuf-es") {
    const helper = f.import("protobufEsCodec", `${options.runtimeImport}/protobuf-es`);
    return (desc) => ({ type: f.importShape(desc), codec: [helper, "(", f.importSchema(desc)] });
  }
  const helper = f.import("tsProtoCodec", options.runtimeImport);
  return (desc) => {
    const symbol = f.import(tsProtoMessageName(desc, options.tsProto), tsProtoModule(desc, options.tsProto));
    return { type: symbol, codec: [helper, `(${JSON.stringify(desc.typeName)}, `, symbol] };
  };
}
