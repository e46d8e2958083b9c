/**
 * The descriptors a generated file embeds for ts-proto messages, so that the runtime can convert JSON with
 * @bufbuild/protobuf's conformance-tested proto3 JSON (ts-proto's own `fromJSON` is lenient).
 *
 * One base64 `FileDescriptorSet` per generated file: the proto file itself first, then every file whose messages
 * or enums its messages use, transitively. Well-known types are left out (the runtime takes them from
 * @bufbuild/protobuf/wkt). Each file is trimmed to what JSON needs, which also makes the bytes independent of
 * the compiler (protoc and buf differ in source info and in what they spell out):
 * - no services, extensions, source code info, reserved names/ranges;
 * - options reduced to what changes the meaning of a field (`features`, `map_entry`, `packed`, `allow_alias`);
 * - `json_name` only when it differs from the default (proto name in lowerCamelCase);
 * - `dependency` lists exactly the embedded or well-known files whose types the file uses.
 *
 * And, for gRPC server reflection, the whole files ({@link reflectionDescriptors}): services, options and
 * imports as the compiler gave them, without source code info.
 */
import type { DescEnum, DescFile, DescMessage } from "@bufbuild/protobuf";
import type { DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { deps } from "./deps.js";
import { protoJsonName } from "../proto/json-name.js";

/** Proto files @bufbuild/protobuf/wkt provides (never embedded). */
const WELL_KNOWN = new Set(
  ["any", "api", "descriptor", "duration", "empty", "field_mask", "source_context", "struct", "timestamp", "type", "wrappers", "compiler/plugin", "cpp_features", "go_features", "java_features"].map(
    (n) => `google/protobuf/${n}.proto`,
  ),
);

/** The files whose types `file`'s messages use, in order of first use (without `file`). */
function usedFiles(file: DescFile): DescFile[] {
  const out = new Map<string, DescFile>();
  const add = (d: DescMessage | DescEnum): void => {
    if (d.file.name !== file.name && !out.has(d.file.name)) out.set(d.file.name, d.file);
  };
  const walk = (m: DescMessage): void => {
    for (const f of m.fields) {
      if (f.fieldKind === "message") add(f.message);
      else if (f.fieldKind === "enum") add(f.enum);
      else if (f.fieldKind === "list" && f.listKind !== "scalar") add(f.listKind === "message" ? f.message : f.enum);
      else if (f.fieldKind === "map" && f.mapKind !== "scalar") add(f.mapKind === "message" ? f.message : f.enum);
    }
    for (const n of m.nestedMessages) walk(n);
  };
  for (const m of file.messages) walk(m);
  return [...out.values()];
}

/** A field of a proto2 message (descriptor.proto) if it is set; unset ones stay unset in the copy. */
function own<T extends object, K extends keyof T>(o: T, k: K): T[K] | undefined {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

function trimEnum(e: EnumDescriptorProto): void {
  e.options = e.options && deps.create(deps.EnumOptionsSchema, { allowAlias: own(e.options, "allowAlias"), features: e.options.features });
  e.reservedName = [];
  e.reservedRange = [];
  for (const v of e.value) v.options = v.options && deps.create(deps.EnumValueOptionsSchema, { features: v.options.features });
}

function trimMessage(m: DescriptorProto): void {
  m.extension = [];
  m.extensionRange = [];
  m.reservedName = [];
  m.reservedRange = [];
  m.options = m.options && deps.create(deps.MessageOptionsSchema, { mapEntry: own(m.options, "mapEntry"), features: m.options.features });
  for (const f of m.field) {
    if (f.jsonName === protoJsonName(f.name)) delete (f as { jsonName?: string }).jsonName;
    f.options = f.options && deps.create(deps.FieldOptionsSchema, { packed: own(f.options, "packed"), features: f.options.features });
  }
  for (const o of m.oneofDecl) o.options = o.options && deps.create(deps.OneofOptionsSchema, { features: o.options.features });
  m.nestedType.forEach(trimMessage);
  m.enumType.forEach(trimEnum);
}

function trimFile(file: DescFile): FileDescriptorProto {
  const p = deps.fromBinary(deps.FileDescriptorProtoSchema, deps.toBinary(deps.FileDescriptorProtoSchema, file.proto));
  p.dependency = usedFiles(file).map((d) => d.proto.name);
  p.publicDependency = [];
  p.weakDependency = [];
  p.optionDependency = [];
  p.service = [];
  p.extension = [];
  p.sourceCodeInfo = undefined;
  p.options = p.options && deps.create(deps.FileOptionsSchema, { features: p.options.features });
  p.messageType.forEach(trimMessage);
  p.enumType.forEach(trimEnum);
  return p;
}

/** The base64 `FileDescriptorSet` a generated file embeds for `file` (see the module comment). */
export function embeddedDescriptors(file: DescFile): string {
  const files = [file];
  for (let i = 0; i < files.length; i++) {
    for (const d of usedFiles(files[i]!)) {
      if (!WELL_KNOWN.has(d.proto.name) && !files.some((f) => f.name === d.name)) files.push(d);
    }
  }
  const set = deps.create(deps.FileDescriptorSetSchema, { file: files.map(trimFile) });
  return Buffer.from(deps.toBinary(deps.FileDescriptorSetSchema, set)).toString("base64");
}

/**
 * Normalized for the same bytes under protoc and buf: no source code info, `json_name` only where it differs
 * from the default (protoc spells every one out, buf does not), and options without custom options (extension
 * values such as `google.api.http`, whose bytes each compiler orders its own way). Everything a reflection
 * client needs to encode and decode messages and call methods stays.
 */
function wholeFile(file: DescFile): FileDescriptorProto {
  const p = deps.fromBinary(deps.FileDescriptorProtoSchema, deps.toBinary(deps.FileDescriptorProtoSchema, file.proto));
  p.sourceCodeInfo = undefined;
  const plain = (o: object | undefined): void => {
    if (o !== undefined) delete (o as { $unknown?: unknown }).$unknown;
  };
  const field = (f: FieldDescriptorProto): void => {
    if (f.jsonName === protoJsonName(f.name)) delete (f as { jsonName?: string }).jsonName;
    plain(f.options);
  };
  const enumType = (e: EnumDescriptorProto): void => {
    plain(e.options);
    for (const v of e.value) plain(v.options);
  };
  const message = (m: DescriptorProto): void => {
    plain(m.options);
    m.field.forEach(field);
    m.extension.forEach(field);
    for (const o of m.oneofDecl) plain(o.options);
    m.nestedType.forEach(message);
    m.enumType.forEach(enumType);
  };
  plain(p.options);
  p.extension.forEach(field);
  p.messageType.forEach(message);
  p.enumType.forEach(enumType);
  for (const svc of p.service) {
    plain(svc.options);
    for (const m of svc.method) plain(m.options);
  }
  return p;
}

/**
 * What gRPC server reflection serves for the services of `file`: a base64 `FileDescriptorSet` of the file
 * itself first, then every file it imports, transitively, in order of first import (as {@link wholeFile}
 * keeps them). Well-known types (`google/protobuf/*.proto`) are left out: the runtime takes them from
 * @bufbuild/protobuf/wkt.
 */
export function reflectionDescriptors(file: DescFile): string {
  const files = [file];
  for (let i = 0; i < files.length; i++) {
    for (const d of files[i]!.dependencies) {
      if (!WELL_KNOWN.has(d.proto.name) && !files.some((f) => f.name === d.name)) files.push(d);
    }
  }
  const set = deps.create(deps.FileDescriptorSetSchema, { file: files.map(wholeFile) });
  return Buffer.from(deps.toBinary(deps.FileDescriptorSetSchema, set)).toString("base64");
}
