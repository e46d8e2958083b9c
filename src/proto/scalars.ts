/**
 * Protobuf facts that both protoc-gen-micro and the runtime need. This folder imports nothing (as src/http/),
 * so the generator, which may not import runtime code, and the runtime share one copy.
 */

/**
 * Proto scalar type names by the numbers of `FieldDescriptorProto.Type` (the values of @bufbuild/protobuf's
 * `ScalarType`): `5` → `int32`, `9` → `string`, …
 */
export const SCALAR_NAMES: Readonly<Record<number, string>> = {
  1: "double",
  2: "float",
  3: "int64",
  4: "uint64",
  5: "int32",
  6: "fixed64",
  7: "fixed32",
  8: "bool",
  9: "string",
  12: "bytes",
  13: "uint32",
  15: "sfixed32",
  16: "sfixed64",
  17: "sint32",
  18: "sint64",
};
