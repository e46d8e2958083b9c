/**
 * `micro sidecar`: Go Micro's answer for apps in other languages. An app that speaks plain HTTP gets
 * registration, discovery, health checking, RPC through discovery and pub/sub from a companion process.
 */
export { newSidecar, type Sidecar, type SidecarOptions } from "./sidecar.js";
export { appPath } from "./app-http.js";
export { parseDeclaration, type ServiceDeclaration, type EndpointDeclaration } from "./app-services.js";
export { parseAppSubscription, type AppSubscription } from "./pubsub.js";
