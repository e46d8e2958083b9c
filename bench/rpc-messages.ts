/**
 * The benchmark's messages. micro-ts gets them the way ts-proto (its default message library) generates
 * them, on @bufbuild/protobuf's wire writer; grpc-js gets the same schema through @grpc/proto-loader
 * (protobufjs), its usual setup.
 */
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import type * as protoLoader from "@grpc/proto-loader";
import { tsProtoCodec, type ServiceDefinition } from "../src/index.js";

export interface HelloRequest {
  name: string;
}
export interface HelloResponse {
  message: string;
}

function stringMessage<T>(field: keyof T & string) {
  return {
    encode(message: T, writer: BinaryWriter = new BinaryWriter()): BinaryWriter {
      const v = message[field] as unknown as string;
      if (v !== "") writer.uint32(10).string(v);
      return writer;
    },
    decode(input: Uint8Array): T {
      const reader = new BinaryReader(input);
      const message = { [field]: "" } as T;
      while (reader.pos < reader.len) {
        const tag = reader.uint32();
        if (tag >>> 3 === 1 && (tag & 7) === 2) (message as Record<string, unknown>)[field] = reader.string();
        else reader.skip(tag & 7);
      }
      return message;
    },
    fromJSON(object: any): T {
      return { [field]: typeof object?.[field] === "string" ? object[field] : "" } as T;
    },
    toJSON(message: T): unknown {
      return { [field]: message[field] };
    },
  };
}

export const HelloRequest = stringMessage<HelloRequest>("name");
export const HelloResponse = stringMessage<HelloResponse>("message");

export const BenchGreeter = {
  name: "Greeter",
  fullName: "bench.Greeter",
  methods: {
    hello: { name: "Hello", kind: "unary", input: tsProtoCodec("bench.HelloRequest", HelloRequest), output: tsProtoCodec("bench.HelloResponse", HelloResponse) },
    stream: { name: "Stream", kind: "server_streaming", input: tsProtoCodec("bench.HelloRequest", HelloRequest), output: tsProtoCodec("bench.HelloResponse", HelloResponse) },
  },
} as const satisfies ServiceDefinition;

/** The same schema for @grpc/proto-loader (protobufjs JSON form). */
export const grpcDescriptor: Parameters<typeof protoLoader.fromJSON>[0] = {
  nested: {
    bench: {
      nested: {
        Greeter: {
          methods: {
            Hello: { requestType: "HelloRequest", responseType: "HelloResponse", comment: "" },
            Stream: { requestType: "HelloRequest", responseType: "HelloResponse", responseStream: true, comment: "" },
          },
        },
        HelloRequest: { fields: { name: { type: "string", id: 1 } } },
        HelloResponse: { fields: { message: { type: "string", id: 1 } } },
      },
    },
  },
};
