/**
 * The service definition: what protoc-gen-micro emits for each proto service and what the client,
 * the server, the registry and the gateway read. It is plain data, so the generated file stays small.
 */
import type { MessageCodec, ValueRecord } from "../codec/codec.js";
import { endpointNameOf } from "../../proto/endpoint.js";

export type { ValueRecord } from "../codec/codec.js";

/** The four RPC shapes. */
export type MethodKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

/**
 * One `google.api.http` binding. `additional_bindings` are flattened into the method's `http` array
 * (first the main rule, then each additional binding in order).
 */
export interface HttpRule {
  /** `GET`, `PUT`, `POST`, `DELETE`, `PATCH`, or the verb of a `custom` pattern. */
  readonly method: string;
  /** The path template, e.g. `/v1/{name=messages/*}`. */
  readonly path: string;
  /** `"*"`, a top-level request field name, or absent (no body). */
  readonly body?: string;
  /** A top-level response field name to return instead of the whole response. */
  readonly responseBody?: string;
}


/** One RPC method. */
export interface MethodDefinition<I = any, O = any> {
  /** The rpc name as in the proto, e.g. `Hello`. The endpoint is `<service name>.<name>`. */
  readonly name: string;
  readonly kind: MethodKind;
  readonly input: MessageCodec<I>;
  readonly output: MessageCodec<O>;
  readonly http?: readonly HttpRule[];
  /** From `option idempotency_level`: `NO_SIDE_EFFECTS` or `IDEMPOTENT`. */
  readonly idempotency?: "NO_SIDE_EFFECTS" | "IDEMPOTENT";
  readonly deprecated?: boolean;
}

/** One proto service. `methods` is keyed by the TypeScript method name used in the client and handler. */
export interface ServiceDefinition {
  /** The proto service name, e.g. `Greeter`. */
  readonly name: string;
  /** The fully qualified name, e.g. `greeter.v1.Greeter`. */
  readonly fullName: string;
  readonly methods: { readonly [method: string]: MethodDefinition };
}

/** The endpoint name used on the wire, in the registry and on the command line: `Greeter.Hello`. */
export function endpointName(service: ServiceDefinition, method: MethodDefinition): string {
  return endpointNameOf(service.name, method.name);
}
