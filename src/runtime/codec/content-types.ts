import { MicroError } from "../errors/index.js";
import type { Codec, JsonReadOptions, MessageCodec } from "./codec.js";

export const PROTOBUF_CONTENT_TYPE = "application/protobuf";
export const JSON_CONTENT_TYPE = "application/json";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Binary protobuf: the default between services. */
export const protobufCodec: Codec = {
  contentType: PROTOBUF_CONTENT_TYPE,
  marshal: <T>(codec: MessageCodec<T>, message: T) => codec.encode(message),
  unmarshal: <T>(codec: MessageCodec<T>, bytes: Uint8Array) => codec.decode(bytes),
};

/** Canonical proto3 JSON: accepted everywhere so the command line and the gateway can call any service. */
export const jsonCodec: Codec = {
  contentType: JSON_CONTENT_TYPE,
  marshal: <T>(codec: MessageCodec<T>, message: T) => utf8Encoder.encode(JSON.stringify(codec.toJSON(message) ?? null)),
  unmarshal: <T>(codec: MessageCodec<T>, bytes: Uint8Array, options?: JsonReadOptions): T => {
    let parsed: unknown;
    try {
      parsed = bytes.length === 0 ? {} : JSON.parse(utf8Decoder.decode(bytes));
    } catch (cause) {
      throw MicroError.badRequest("micro.codec", `malformed JSON for ${codec.typeName}: ${(cause as Error).message}`);
    }
    return codec.fromJSON(parsed, options);
  },
};

/** Codecs by content type. Aliases cover what other protobuf stacks send. */
export const codecs: ReadonlyMap<string, Codec> = new Map<string, Codec>([
  [PROTOBUF_CONTENT_TYPE, protobufCodec],
  ["application/x-protobuf", protobufCodec],
  ["application/proto", protobufCodec],
  ["application/octet-stream", protobufCodec],
  [JSON_CONTENT_TYPE, jsonCodec],
]);

/**
 * The codec for a content type (parameters such as `; charset=utf-8` are ignored).
 * @throws MicroError (400) naming the supported content types when there is none.
 */
export function codecFor(contentType: string): Codec {
  const base = contentType.split(";", 1)[0]!.trim().toLowerCase();
  const codec = codecs.get(base);
  if (!codec) {
    throw MicroError.badRequest(
      "micro.codec",
      `unsupported content type "${contentType}"; use one of: ${[...codecs.keys()].join(", ")}`,
    );
  }
  return codec;
}
