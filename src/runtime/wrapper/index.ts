/**
 * Wrappers: middleware in the onion model (the first wrapper given is the outermost) for client calls
 * (`ClientWrapper`), attempts at a node (`CallWrapper`), handlers (`HandlerWrapper`) and subscribers
 * (`SubscriberWrapper`), with built-in logging, rate limiting, circuit breaking, auth and metrics.
 */
export type { ClientWrapper, CallWrapper, ClientCallFunc, CallFunc, ClientRequest } from "../client/index.js";
export type { HandlerWrapper, HandlerFunc, HandlerRequest, SubscriberWrapper, SubscriberFunc } from "../server/index.js";
export { logHandlerWrapper, logClientWrapper, logSubscriberWrapper, type LogWrapperOptions } from "./logging.js";
export { rateLimitHandlerWrapper, rateLimitClientWrapper, type RateLimitOptions } from "./rate-limit.js";
export { circuitBreakerWrapper, type CircuitBreakerOptions } from "./circuit-breaker.js";
// Auth and metrics live in their own folders (they load jose / prom-client lazily); their wrappers are listed here too.
export { authHandlerWrapper, authClientWrapper, type AuthClientOptions, type AuthOptions } from "../auth/index.js";
export { metricsHandlerWrapper, metricsClientWrapper, metricsSubscriberWrapper, type MetricsOptions } from "../metrics/index.js";
