/**
 * micro-ts: the runtime that generated code and services import.
 * Each folder under runtime/ is one of Go Micro's interfaces with its implementations beside it.
 */
export * from "./runtime/errors/index.js";
export * from "./runtime/codec/index.js";
export * from "./runtime/definition/index.js";
export * from "./runtime/client/index.js";
export * from "./runtime/server/index.js";
export * from "./runtime/registry/index.js";
export * from "./runtime/selector/index.js";
export * from "./runtime/transport/index.js";
export * from "./runtime/broker/index.js";
export * from "./runtime/logger/index.js";
export * from "./runtime/config/index.js";
export * from "./runtime/registry/memory/index.js";
export * from "./runtime/registry/local/index.js";
export * from "./runtime/registry/cache.js";
export * from "./runtime/broker/memory/index.js";
export * from "./runtime/transport/tcp/index.js";
export * from "./runtime/broker/direct/index.js";
export * from "./runtime/service/index.js";
export * from "./runtime/wrapper/index.js";
export * from "./api/types.js";
