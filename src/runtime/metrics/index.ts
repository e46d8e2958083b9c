/**
 * Prometheus metrics on prom-client (loaded on first use): wrappers for handlers, clients and subscribers,
 * decorators for broker publishes and registry lookups, and the `/metrics` server.
 */
export { metricsHandlerWrapper, metricsClientWrapper, metricsSubscriberWrapper, instrumentBroker, instrumentRegistry } from "./wrappers.js";
export { loadMetrics, LATENCY_BUCKETS, type MetricsOptions, type MetricsRegistry, type MicroMetrics } from "./metrics.js";
export { serveMetrics } from "./serve.js";
export type { AdminServer } from "../admin/http.js";
