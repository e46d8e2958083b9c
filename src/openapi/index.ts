/**
 * OpenAPI 3.1 documents of micro services, from a plain model (./model.ts) that protoc-gen-micro fills from
 * descriptors and the gateway from the registry. Imports only src/http and src/proto.
 */
export type { ApiModel, EnumModel, FieldModel, FieldType, MessageModel, MethodModel, RuleModel, TagModel } from "./model.js";
export { openApiDocument, ERROR_SCHEMA_NAME, type DocumentOptions, type OpenApiDocument } from "./document.js";
export { enumSchema, fieldSchema, messageSchema, scalarSchema, typeSchema, wellKnownSchema, ERROR_SCHEMA, NULL_VALUE, type Schema } from "./schema.js";
