/**
 * Tracing: OpenTelemetry spans for client calls, handlers, publishes and subscriber deliveries, with W3C trace
 * context in metadata. Opt-in (`newService({ tracing: true })` or the wrappers one by one); `@opentelemetry/api`
 * is loaded at the first traced call.
 */
export { tracingClientWrapper, tracingHandlerWrapper, tracingPublishWrapper, tracingSubscriberWrapper, type TracingOptions, type MessagingTracingOptions } from "./wrappers.js";
export { loadOtel, otelLoaded, metadataGetter, metadataSetter, type Otel } from "./otel.js";
export { inSpan, recordFailure, TRACER_NAME, type StatusAttribute } from "./spans.js";
