/**
 * Call targets for callers that hold JSON or raw protobuf bytes and no generated types (the gateway and
 * the command line). The server decodes with the endpoint's real codec.
 */
import type { CallTarget } from "../runtime/client/index.js";
import type { MessageCodec } from "../runtime/codec/index.js";
import { rawJsonCodec } from "../runtime/codec/index.js";
import type { MethodKind } from "../runtime/definition/index.js";

/** Passes protobuf bytes through untouched; send with content type `application/protobuf`. */
export const rawBytesCodec: MessageCodec<Uint8Array> = {
  typeName: "bytes",
  encode: (message) => message,
  decode: (bytes) => bytes,
  fromJSON: () => {
    throw new TypeError("rawBytesCodec carries protobuf bytes only");
  },
  toJSON: () => {
    throw new TypeError("rawBytesCodec carries protobuf bytes only");
  },
};

/** A target whose messages are plain JSON values (call with content type `application/json`). */
export function jsonTarget(service: string, endpoint: string, kind: MethodKind = "unary"): CallTarget<unknown, unknown> {
  const dot = endpoint.lastIndexOf(".");
  return { service, endpoint, method: { name: endpoint.slice(dot + 1), kind, input: rawJsonCodec, output: rawJsonCodec } };
}

/** A target whose messages are protobuf bytes (call with content type `application/protobuf`). */
export function bytesTarget(service: string, endpoint: string, kind: MethodKind = "unary"): CallTarget<Uint8Array, Uint8Array> {
  const dot = endpoint.lastIndexOf(".");
  return { service, endpoint, method: { name: endpoint.slice(dot + 1), kind, input: rawBytesCodec, output: rawBytesCodec } };
}
