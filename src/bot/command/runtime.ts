/**
 * What the generated Command service code (./gen/command.micro.ts) imports, gathered from the runtime: the
 * generator's `runtime_import` points here because files inside src/ do not import the root façade.
 */
export type { CallOptions, Client } from "../../runtime/client/index.js";
export type { Context, HandlerOptions, Server } from "../../runtime/server/index.js";
export type { MessageCodec } from "../../runtime/codec/index.js";
export type { ServiceDefinition } from "../../runtime/definition/index.js";
export { tsProtoCodec } from "../../runtime/codec/index.js";
