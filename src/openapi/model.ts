/**
 * What an OpenAPI document is built from: services' methods with their HTTP rules, and the messages and enums
 * they use, as plain data. protoc-gen-micro fills it from descriptors (with comments); the gateway fills it
 * from the registry's endpoint records. Imports nothing.
 */

/** A field's value type. */
export type FieldType =
  /** A proto scalar by its proto name: `int32`, `string`, `bytes`, … */
  | { readonly kind: "scalar"; readonly scalar: string }
  /** An enum by its full name (in {@link ApiModel.enums} when its values are known). */
  | { readonly kind: "enum"; readonly typeName: string }
  /** A message by its full name (a well-known type, or in {@link ApiModel.messages} when its fields are known). */
  | { readonly kind: "message"; readonly typeName: string }
  /** A type the source could not describe (the registry's value trees stop at a depth): any JSON value. */
  | { readonly kind: "unknown"; readonly typeName: string };

export interface FieldModel {
  /** The proto field name (`user_id`); path templates and rule bodies name fields by it. */
  readonly name: string;
  /** The proto3 JSON name (`userId`): the property name in JSON. */
  readonly jsonName: string;
  readonly type: FieldType;
  /** `repeated` (a JSON array) or `map` (a JSON object keyed by {@link mapKey}); absent for a single value. */
  readonly label?: "repeated" | "map";
  /** The map's key scalar (`string`, `int32`, …). */
  readonly mapKey?: string;
  /** The oneof this field belongs to (not proto3 `optional`'s synthetic oneof). */
  readonly oneof?: string;
  readonly description?: string;
  readonly deprecated?: boolean;
}

export interface MessageModel {
  readonly typeName: string;
  readonly description?: string;
  readonly fields: readonly FieldModel[];
}

export interface EnumModel {
  readonly typeName: string;
  readonly description?: string;
  /** The value names, in declaration order (proto3 JSON writes enums by name). */
  readonly values: readonly string[];
}

/** One `google.api.http` binding (the runtime's `HttpRule` shape). */
export interface RuleModel {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly responseBody?: string;
}

export interface MethodModel {
  /** The service name in the registry (`greeter`): the gateway's rpc route names it. */
  readonly service: string;
  /** The endpoint, `Greeter.Hello`. */
  readonly endpoint: string;
  readonly kind: "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";
  /** Full names of the request and response messages. */
  readonly input: string;
  readonly output: string;
  /** The method's http rules; none: the gateway's rpc route `POST /<service>/<method>` documents it. */
  readonly http: readonly RuleModel[];
  /** Operation tag (the proto service's full name, e.g. `greeter.v1.Greeter`). */
  readonly tag: string;
  readonly description?: string;
  readonly deprecated?: boolean;
}

export interface TagModel {
  readonly name: string;
  readonly description?: string;
}

export interface ApiModel {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly tags: readonly TagModel[];
  readonly methods: readonly MethodModel[];
  readonly messages: ReadonlyMap<string, MessageModel>;
  readonly enums: ReadonlyMap<string, EnumModel>;
}
