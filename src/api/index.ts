/**
 * The API gateway (`micro api`) and the types of API handlers (`micro.api.v1.Request` / `Response`): what a
 * program that runs the gateway, or writes an endpoint for its `api` handler, needs. The gateway's internals
 * (path segments, route templates, the target cache) stay internal.
 */
export { newGateway, parseListenAddress, handlerKinds, type Gateway, type GatewayOptions, type GatewayExtension, type HandlerKind } from "./gateway.js";
export { apiRequestCodec, apiResponseCodec, type ApiRequest, type ApiResponse, type Pair } from "./types.js";
export { resolvePath, type Resolved } from "./resolve.js";
export type { PathTemplate } from "./http-rule.js";
export type { Route } from "./routes.js";
/** Calls without generated types, as the gateway makes them (they live in the runtime). */
export { jsonTarget, bytesTarget, rawBytesCodec } from "../runtime/target/index.js";
