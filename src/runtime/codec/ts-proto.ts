import type { ValueRecord } from "../definition/index.js";
import type { MessageCodec } from "./index.js";

/** The subset of ts-proto's generated `MessageFns<T>` the runtime uses. */
export interface TsProtoMessageFns<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromJSON(object: any): T;
  toJSON(message: T): unknown;
}

/**
 * A {@link MessageCodec} over a ts-proto message (`tsProtoCodec("greeter.v1.HelloRequest", HelloRequest)`).
 * Generated code calls this; user code does too, for pub/sub payloads.
 */
export function tsProtoCodec<T>(typeName: string, fns: TsProtoMessageFns<T>, fields?: readonly ValueRecord[]): MessageCodec<T> {
  return {
    typeName,
    encode: (message) => fns.encode(message).finish(),
    decode: (bytes) => fns.decode(bytes),
    fromJSON: (json) => fns.fromJSON(json),
    toJSON: (message) => fns.toJSON(message),
    fields,
  };
}
