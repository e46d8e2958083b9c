/**
 * The server: holds handlers and subscribers, serves them over the transport, and registers itself.
 * Generated `registerGreeterHandler(server, handler)` calls {@link Server.handle}.
 */
export * from "./server.js";
export { newServer, RpcServer, type ServerOptions, type ServerDeps } from "./rpc-server.js";
export { healthMethod, HEALTH_ENDPOINT, type HealthResponse } from "./health.js";
