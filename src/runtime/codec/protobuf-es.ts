/**
 * Codecs over protobuf-es v2 messages. A separate entry point (`micro-ts/protobuf-es`) so that services
 * built on ts-proto never load @bufbuild/protobuf.
 */
import { create, createRegistry, fromBinary, fromJson, toBinary, toJson, type DescFile, type DescMessage, type MessageShape, type Registry } from "@bufbuild/protobuf";
import type { ValueRecord } from "./codec.js";
import type { MessageCodec } from "./codec.js";
import { canonicalToJson, strictFromJson, withDependencies } from "./proto-json.js";

const pb = { fromJson, toJson };

/** The registry `Any` resolves against, per file (built on first JSON use, shared by the file's messages). */
const registries = new WeakMap<DescFile, Registry>();
function registryOf(file: DescFile): Registry {
  let r = registries.get(file);
  if (r === undefined) registries.set(file, (r = createRegistry(...withDependencies(file))));
  return r;
}

/**
 * A {@link MessageCodec} over a protobuf-es schema (`protobufEsCodec(HelloRequestSchema)`). JSON is strict proto3
 * JSON (see {@link MessageCodec.fromJSON}); `Any` resolves the types of the schema's file and its imports.
 */
export function protobufEsCodec<Desc extends DescMessage>(schema: Desc, fields?: readonly ValueRecord[]): MessageCodec<MessageShape<Desc>> {
  const types = (): Registry => registryOf(schema.file);
  return {
    typeName: schema.typeName,
    encode: (message) => toBinary(schema, message),
    decode: (bytes) => fromBinary(schema, bytes),
    fromJSON: (json, options) => strictFromJson(pb, schema, json, options, types()),
    toJSON: (message) => canonicalToJson(pb, schema, message, types()),
    fields,
  };
}

/** An empty message of a schema; handy in handlers (`create(schema, init)` re-exported for convenience). */
export { create };
