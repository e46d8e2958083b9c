import { createRequire } from "node:module";
import type { DescFile, DescMessage, FileRegistry } from "@bufbuild/protobuf";
import type { DescriptorProto, FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import type { ValueRecord } from "./codec.js";
import type { MessageCodec } from "./codec.js";
import { canonicalToJson, requireJsonObject, strictFromJson } from "./proto-json.js";
import { protoJsonName } from "../../proto/json-name.js";

/** The subset of ts-proto's generated `MessageFns<T>` the runtime uses. */
export interface TsProtoMessageFns<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromJSON(object: any): T;
  toJSON(message: T): unknown;
}

type Protobuf = typeof import("@bufbuild/protobuf");
type Wkt = typeof import("@bufbuild/protobuf/wkt");

/**
 * @bufbuild/protobuf, loaded on the first JSON conversion only (a ts-proto service that speaks binary never
 * loads it), synchronously, from its CommonJS build.
 */
let library: { pb: Protobuf; wkt: Wkt; wktFiles: Map<string, DescFile> } | undefined;
function protobuf(): { pb: Protobuf; wkt: Wkt; wktFiles: Map<string, DescFile> } {
  if (library === undefined) {
    const require = createRequire(import.meta.url);
    const pb = require("@bufbuild/protobuf") as Protobuf;
    const wkt = require("@bufbuild/protobuf/wkt") as Wkt;
    const files = new Map<string, DescFile>();
    for (const [name, value] of Object.entries(wkt)) {
      if (name.startsWith("file_") && (value as { kind?: unknown }).kind === "file") files.set((value as DescFile).proto.name, value as DescFile);
    }
    library = { pb, wkt, wktFiles: files };
  }
  return library;
}

function withJsonNames(m: DescriptorProto): void {
  for (const f of m.field) if (!Object.prototype.hasOwnProperty.call(f, "jsonName")) f.jsonName = protoJsonName(f.name);
  m.nestedType.forEach(withJsonNames);
}

/** Registries by embedded descriptor set (one per generated file), built on first use. */
const registries = new Map<string, FileRegistry>();

/**
 * The registry of a generated file's embedded descriptors: a base64 `FileDescriptorSet` whose first file is the
 * generated file, followed by the files its messages need (well-known types come from @bufbuild/protobuf/wkt).
 */
function registryOf(descriptors: string): FileRegistry {
  let registry = registries.get(descriptors);
  if (registry === undefined) {
    const { pb, wkt, wktFiles } = protobuf();
    const set = pb.fromBinary(wkt.FileDescriptorSetSchema, Buffer.from(descriptors, "base64"));
    // The generator leaves out JSON names that are the default; @bufbuild/protobuf expects them set (as protoc does).
    for (const file of set.file) file.messageType.forEach(withJsonNames);
    const [first, ...rest] = set.file;
    if (first === undefined) throw new TypeError("tsProtoCodec: the embedded descriptor set is empty");
    const byName = new Map<string, FileDescriptorProto>(rest.map((f) => [f.name, f]));
    registry = pb.createFileRegistry(first, (name) => byName.get(name) ?? wktFiles.get(name));
    registries.set(descriptors, registry);
  }
  return registry;
}

/**
 * A {@link MessageCodec} over a ts-proto message (`tsProtoCodec("greeter.v1.HelloRequest", HelloRequest)`).
 * Generated code calls this with the file's embedded descriptors (`descriptors`): JSON is then strict proto3 JSON,
 * converted by @bufbuild/protobuf (JSON ⇄ its message ⇄ binary ⇄ ts-proto's message). Without descriptors
 * (a hand-written codec, e.g. for pub/sub payloads) JSON goes through ts-proto's own `fromJSON`/`toJSON`,
 * which are lenient.
 */
export function tsProtoCodec<T>(typeName: string, fns: TsProtoMessageFns<T>, fields?: readonly ValueRecord[], descriptors?: string): MessageCodec<T> {
  const encode = (message: T): Uint8Array => fns.encode(message).finish();
  if (descriptors === undefined) {
    return {
      typeName,
      encode,
      decode: (bytes) => fns.decode(bytes),
      fromJSON: (json) => {
        requireJsonObject(json);
        return fns.fromJSON(json);
      },
      toJSON: (message) => fns.toJSON(message),
      fields,
    };
  }
  let desc: DescMessage | undefined;
  const schema = (): { pb: Protobuf; desc: DescMessage; registry: FileRegistry } => {
    const registry = registryOf(descriptors);
    if (desc === undefined) {
      desc = registry.getMessage(typeName);
      if (desc === undefined) throw new TypeError(`tsProtoCodec: ${typeName} is not in the embedded descriptors`);
    }
    return { pb: protobuf().pb, desc, registry };
  };
  return {
    typeName,
    encode,
    decode: (bytes) => fns.decode(bytes),
    fromJSON: (json, options) => {
      const { pb, desc, registry } = schema();
      // ts-proto's decode refuses what its types cannot hold (e.g. an int64 past 2^53 with forceLong=number).
      return strictFromJson(pb, desc, json, options, registry, (message) => fns.decode(pb.toBinary(desc, message)));
    },
    toJSON: (message) => {
      const { pb, desc, registry } = schema();
      return canonicalToJson(pb, desc, pb.fromBinary(desc, encode(message)), registry);
    },
    fields,
  };
}
