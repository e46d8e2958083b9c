/**
 * micro-ts: the runtime that services, generated code and scaffolded projects import.
 *
 * Chosen on purpose: what a service author uses first, then what a plugin author (a new registry, broker,
 * transport, selector or wrapper) needs. Every interface's types are exported; internals stay internal.
 * Subpath entries: `micro-ts/protobuf-es` (codecs over protobuf-es), `micro-ts/registry/etcd`,
 * `micro-ts/broker/nats`, `micro-ts/api` (the gateway).
 */

// ── Services: the service, its client and server, errors ─────────────────────────────────────────────
export { newService, exitOnStartFailure } from "./runtime/service/index.js";
export { newClient, RpcClient } from "./runtime/client/index.js";
export { newServer, RpcServer, registerSubscriber, healthMethod, HEALTH_ENDPOINT } from "./runtime/server/index.js";
export {
  MicroError,
  fromError,
  parse as parseError,
  statusText,
  badRequest,
  unauthorized,
  forbidden,
  notFound,
  methodNotAllowed,
  internalServerError,
} from "./runtime/errors/index.js";
export { UsageError } from "./runtime/errors/usage.js";

// ── Messages: codecs (generated code calls tsProtoCodec; protobuf-es codecs are in micro-ts/protobuf-es) ──
export {
  tsProtoCodec,
  rawJsonCodec,
  jsonCodec,
  protobufCodec,
  codecFor,
  allowUnknownJsonFields,
  JSON_CONTENT_TYPE,
  PROTOBUF_CONTENT_TYPE,
} from "./runtime/codec/index.js";
export { endpointName } from "./runtime/definition/index.js";
export { apiRequestCodec, apiResponseCodec } from "./api/types.js";

// ── Wrappers (middleware) and logging ───────────────────────────────────────────────────────────────
export {
  logHandlerWrapper,
  logClientWrapper,
  logSubscriberWrapper,
  rateLimitHandlerWrapper,
  rateLimitClientWrapper,
  circuitBreakerWrapper,
  authHandlerWrapper,
  authClientWrapper,
  metricsHandlerWrapper,
  metricsClientWrapper,
  metricsSubscriberWrapper,
} from "./runtime/wrapper/index.js";
export { tracingClientWrapper, tracingHandlerWrapper, tracingPublishWrapper, tracingSubscriberWrapper } from "./runtime/tracing/index.js";
export type { TracingOptions, MessagingTracingOptions } from "./runtime/tracing/index.js";

// ── Production: auth (jose), metrics (prom-client), health probes — each library loaded only when used ──
export { newAuthorizer, loadAuthRules, matchRule } from "./runtime/auth/index.js";
export { serveMetrics, loadMetrics, instrumentBroker, instrumentRegistry } from "./runtime/metrics/index.js";
export { Health, serveHealth } from "./runtime/health/index.js";
export { logger, rootLogger, setRootLogger, setLogLevel } from "./runtime/logger/index.js";

// ── The zero-config plugins (etcd and NATS: micro-ts/registry/etcd, micro-ts/broker/nats) ─────────────
export { memoryRegistry } from "./runtime/registry/memory/index.js";
export { localRegistry, defaultLocalRegistryPath, LOCAL_REGISTRY_TTL } from "./runtime/registry/local/index.js";
export { memoryBroker } from "./runtime/broker/memory/index.js";
export { directBroker } from "./runtime/broker/direct/index.js";
export { tcpTransport } from "./runtime/transport/tcp/index.js";
export { cacheSelector } from "./runtime/selector/index.js";

// ── For plugin authors: configuration, plugin tables, caches, the failure classification ─────────────
export {
  globalFlags,
  readConfig,
  parseDuration,
  resolvePlugins,
  checkPluginNames,
  defaultPlugins,
  registryPlugins,
  transportPlugins,
  brokerPlugins,
  selectorPlugins,
} from "./runtime/config/index.js";
export { cachedRegistry, isCachedRegistry, DEFAULT_VANISH_GRACE } from "./runtime/registry/cache.js";
export { DEFAULT_EJECTION_TIME, DEFAULT_MAX_EJECTION_TIME, DEFAULT_DROP_AFTER, DEFAULT_STALL_TIME } from "./runtime/selector/index.js";
export { classify, markFinal, isUnreachable, type Classification, type FailureKind } from "./runtime/errors/classify.js";

// ── Types of every interface ────────────────────────────────────────────────────────────────────────
export type * from "./runtime/metadata/index.js";
export type * from "./runtime/errors/index.js";
export type * from "./runtime/codec/index.js";
export type * from "./runtime/definition/index.js";
export type * from "./runtime/client/index.js";
export type * from "./runtime/server/index.js";
export type * from "./runtime/registry/index.js";
export type * from "./runtime/selector/index.js";
export type * from "./runtime/transport/index.js";
export type * from "./runtime/broker/index.js";
export type * from "./runtime/logger/index.js";
export type * from "./runtime/config/index.js";
export type * from "./runtime/service/index.js";
export type * from "./runtime/wrapper/index.js";
export type * from "./runtime/auth/index.js";
export type * from "./runtime/metrics/index.js";
export type * from "./runtime/health/index.js";
export type { LocalRegistryOptions } from "./runtime/registry/local/index.js";
export type { MemoryRegistryOptions } from "./runtime/registry/memory/index.js";
export type { MemoryBrokerOptions } from "./runtime/broker/memory/index.js";
export type { DirectBrokerOptions } from "./runtime/broker/direct/index.js";
export type { TcpTransportOptions } from "./runtime/transport/tcp/index.js";
export type { CachedRegistry, RegistryCacheOptions } from "./runtime/registry/cache.js";
export type { ApiRequest, ApiResponse, Pair } from "./api/types.js";
