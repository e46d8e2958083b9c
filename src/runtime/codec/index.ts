/**
 * Codecs turn messages into bytes and back.
 *
 * Two layers, as in Go Micro:
 * - a {@link MessageCodec} knows one message type (built from the message library's own functions:
 *   ts-proto's `Foo.encode/decode/fromJSON/toJSON`, or protobuf-es' `toBinary/fromBinary/...`);
 * - a {@link Codec} knows one content type (`application/protobuf`, `application/json`) and uses the
 *   message codec to do the work. The transport carries the content type in every request header.
 */
export * from "./codec.js";
export { protobufCodec, jsonCodec, codecFor, codecs, PROTOBUF_CONTENT_TYPE, JSON_CONTENT_TYPE } from "./content-types.js";
export { tsProtoCodec, type TsProtoMessageFns } from "./ts-proto.js";
export { rawJsonCodec } from "./raw-json.js";
export { allowUnknownJsonFields } from "./proto-json.js";
