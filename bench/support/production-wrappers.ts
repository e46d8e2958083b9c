/**
 * Shared by the production-overhead benchmark's client and server: the HMAC secret both sides use. Tracing
 * uses the runtime's own wrappers (`tracingClientWrapper`, `tracingHandlerWrapper`); with no SDK installed
 * their spans are no-ops, as in a service that has not configured an exporter.
 */
export const BENCH_SECRET = "bench-secret-of-at-least-32-bytes!!";
export { tracingClientWrapper, tracingHandlerWrapper } from "../../src/index.js";
