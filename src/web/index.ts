/**
 * The web dashboard and web-app proxy (`micro web`): start it in-process with {@link newWebDashboard}.
 */
export { newWebDashboard, isLoopbackHost, DEFAULT_WEB_ADDRESS, DEFAULT_WEB_NAMESPACE, type WebDashboard, type WebOptions } from "./server.js";
export { authKinds, type Auth, type AuthKind, type AuthOptions } from "./auth.js";
