/**
 * What the plugin uses of its dependencies at run time: ./bundle.ts bundles exactly these exports, and the
 * `Deps` interface of ./deps.ts names the same ones. Keys are module specifiers; `protoplugin:<file>` is a file of
 * protoplugin's build (its entry point would load TypeScript, see ./deps.ts).
 */
export const BUNDLE_FILE = "deps.bundle.cjs";

export const BUNDLE_EXPORTS = {
  "@bufbuild/protobuf": ["create", "fromBinary", "toBinary", "protoInt64"],
  "@bufbuild/protobuf/wkt": [
    "CodeGeneratorRequestSchema",
    "CodeGeneratorResponseSchema",
    "CodeGeneratorResponse_Feature",
    "Edition",
    "FileDescriptorSetSchema",
    "FileDescriptorProtoSchema",
    "FileOptionsSchema",
    "MessageOptionsSchema",
    "FieldOptionsSchema",
    "OneofOptionsSchema",
    "EnumOptionsSchema",
    "EnumValueOptionsSchema",
  ],
  "@bufbuild/protobuf/wire": ["BinaryReader", "WireType"],
  "protoplugin:schema.js": ["createSchema"],
  "protoplugin:parameter.js": ["parseParameter"],
  "protoplugin:source-code-info.js": ["getComments"],
} as const;
