/**
 * Codecs over protobuf-es v2 messages. A separate entry point (`micro-ts/protobuf-es`) so that services
 * built on ts-proto never load @bufbuild/protobuf.
 */
import { create, fromBinary, fromJson, toBinary, toJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import type { ValueRecord } from "../definition/index.js";
import type { MessageCodec } from "./index.js";

/** A {@link MessageCodec} over a protobuf-es schema (`protobufEsCodec(HelloRequestSchema)`). */
export function protobufEsCodec<Desc extends DescMessage>(schema: Desc, fields?: readonly ValueRecord[]): MessageCodec<MessageShape<Desc>> {
  return {
    typeName: schema.typeName,
    encode: (message) => toBinary(schema, message),
    decode: (bytes) => fromBinary(schema, bytes),
    fromJSON: (json) => fromJson(schema, (json ?? {}) as JsonValue),
    toJSON: (message) => toJson(schema, message),
    fields,
  };
}

/** An empty message of a schema; handy in handlers (`create(schema, init)` re-exported for convenience). */
export { create };
