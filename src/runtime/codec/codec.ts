/**
 * Codecs turn messages into bytes and back.
 *
 * Two layers, as in Go Micro:
 * - a {@link MessageCodec} knows one message type (built from the message library's own functions:
 *   ts-proto's `Foo.encode/decode/fromJSON/toJSON`, or protobuf-es' `toBinary/fromBinary/...`);
 * - a {@link Codec} knows one content type (`application/protobuf`, `application/json`) and uses the
 *   message codec to do the work. The transport carries the content type in every request header.
 */

/** A field of a message as the registry describes it (Go Micro's `registry.Value`). */
export interface ValueRecord {
  readonly name: string;
  /** The proto type: `string`, `int32`, …, or a message's full name. Repeated fields end in `[]`. */
  readonly type: string;
  readonly values?: readonly ValueRecord[];
}

/** Options of {@link MessageCodec.fromJSON}. */
export interface JsonReadOptions {
  /** Skip fields the message does not have instead of refusing them (default false: an unknown field is a 400). */
  readonly ignoreUnknownFields?: boolean;
}

/** Everything the runtime needs to know about one message type. */
export interface MessageCodec<T = unknown> {
  /** Fully qualified protobuf name, e.g. `greeter.v1.HelloRequest`. */
  readonly typeName: string;
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /**
   * Build a message from its proto3 JSON form (already parsed). Strict for generated codecs: anything but a
   * JSON object, a wrong type, an out-of-range number, an unknown enum name or an unknown field (unless
   * `options.ignoreUnknownFields`) throws a 400 `MicroError` (`micro.codec`) naming the field path.
   */
  fromJSON(json: unknown, options?: JsonReadOptions): T;
  /** The canonical proto3 JSON form of a message (not yet stringified). */
  toJSON(message: T): unknown;
  /** Field descriptions published in the registry (`micro get service`), if the generator emitted them. */
  readonly fields?: readonly ValueRecord[];
}

/** A content-type codec: bytes on the wire ⇄ message, through a {@link MessageCodec}. */
export interface Codec {
  /** The content type it handles, e.g. `application/protobuf`. */
  readonly contentType: string;
  marshal<T>(codec: MessageCodec<T>, message: T): Uint8Array;
  /** `options` apply to JSON (see {@link MessageCodec.fromJSON}); binary protobuf always skips unknown fields. */
  unmarshal<T>(codec: MessageCodec<T>, bytes: Uint8Array, options?: JsonReadOptions): T;
}

