/**
 * The API gateway (`micro api`) and the types of API handlers (`micro.api.v1.Request` / `Response`).
 */
export { newGateway, parseListenAddress, handlerKinds, type Gateway, type GatewayOptions, type HandlerKind } from "./gateway.js";
export { apiRequestCodec, apiResponseCodec, type ApiRequest, type ApiResponse, type Pair } from "./types.js";
export { resolvePath, resolveSegments, pathSegments, toCamel, type Resolved } from "./resolve.js";
export { parseTemplate, matchTemplate, type PathTemplate } from "./http-rule.js";
export { jsonTarget, bytesTarget, rawBytesCodec } from "./targets.js";
export type { Route } from "./routes.js";
