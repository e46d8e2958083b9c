/**
 * OpenTelemetry wrappers: a CLIENT span per call, a SERVER span per handled request, a PRODUCER span per
 * publish and a CONSUMER span per delivered message, through `@opentelemetry/api` only (the process installs
 * the SDK and an exporter; without one every span is a no-op). The W3C trace context travels in call
 * metadata and broker message headers, so one trace crosses services and pub/sub.
 *
 * Attributes follow OpenTelemetry's RPC and messaging semantic conventions, with micro's addressing:
 * `rpc.service` is the service name in the registry (`greeter`), `rpc.method` the endpoint (`Greeter.Hello`),
 * and `rpc.micro.status_code` the MicroError code (200 on success; `rpc.grpc.status_code` for `system: "grpc"`).
 */
import type { Attributes } from "@opentelemetry/api";
import type { ClientRequest, ClientWrapper, PublishWrapper } from "../client/index.js";
import type { HandlerWrapper, SubscriberWrapper } from "../server/index.js";
import { loadOtel, metadataGetter, metadataSetter, otelLoaded } from "./otel.js";
import { inSpan, type StatusAttribute } from "./spans.js";

/** Options of the RPC tracing wrappers. */
export interface TracingOptions {
  /**
   * `rpc.system`: `"micro"` (default, micro's own protocol; status in `rpc.micro.status_code` as the MicroError
   * code, 200 on success) or `"grpc"` (status in `rpc.grpc.status_code` as the gRPC code the MicroError code maps to).
   */
  system?: "micro" | "grpc";
}

/** Options of the pub/sub tracing wrappers. */
export interface MessagingTracingOptions {
  /** `messaging.system`: the broker (default `"micro"`; the service passes its broker's name: `direct`, `memory`, `nats`). */
  messagingSystem?: string;
}

function rpcAttributes(system: string, service: string, endpoint: string): Attributes {
  return { "rpc.system": system, "rpc.service": service, "rpc.method": endpoint, "server.address": service };
}

/** MicroError (HTTP-style) codes → gRPC status codes, as gRPC's HTTP mapping reads them. */
const GRPC_CODES: Readonly<Record<number, number>> = { 200: 0, 400: 3, 401: 16, 403: 7, 404: 5, 408: 4, 409: 6, 412: 9, 429: 8, 499: 1, 501: 12, 503: 14, 504: 4 };

function statusAttribute(system: "micro" | "grpc"): StatusAttribute {
  return system === "grpc" ? (code) => ["rpc.grpc.status_code", GRPC_CODES[code] ?? (code >= 500 ? 13 : 2)] : (code) => ["rpc.micro.status_code", code];
}

function streams(kind: string): boolean {
  return kind !== "unary";
}

/**
 * A CLIENT span around each whole call (retries inside it), named `<service>/<endpoint>`; the trace context is
 * injected into the call's metadata. Server and bidi streams keep the span open until the stream ends.
 */
export function tracingClientWrapper(options: TracingOptions = {}): ClientWrapper {
  const system = options.system ?? "micro";
  const status = statusAttribute(system);
  return (next) => async (request) => {
    const api = otelLoaded() ?? (await loadOtel());
    return inSpan(
      api,
      `${request.service}/${request.endpoint}`,
      api.SpanKind.CLIENT,
      rpcAttributes(system, request.service, request.endpoint),
      api.context.active(),
      () => {
        const metadata = { ...request.options.metadata };
        api.propagation.inject(api.context.active(), metadata, metadataSetter);
        const traced: ClientRequest = { ...request, options: { ...request.options, metadata } };
        return next(traced);
      },
      { status, stream: streams(request.method.kind) },
    );
  };
}

/**
 * A SERVER span around each handler execution, child of the trace context the caller sent in metadata;
 * the handler (and every call it makes) runs with that span active.
 */
export function tracingHandlerWrapper(options: TracingOptions = {}): HandlerWrapper {
  const system = options.system ?? "micro";
  const status = statusAttribute(system);
  return (next) => async (request) => {
    const api = otelLoaded() ?? (await loadOtel());
    const parent = api.propagation.extract(api.ROOT_CONTEXT, request.context.metadata, metadataGetter);
    const kind = request.definition.methods[request.method]?.kind ?? "unary";
    return inSpan(api, `${request.service}/${request.endpoint}`, api.SpanKind.SERVER, rpcAttributes(system, request.service, request.endpoint), parent, () => next(request), {
      status,
      stream: streams(kind),
    });
  };
}

/** A PRODUCER span around each publish, named `publish <topic>`; the trace context is injected into the message header. */
export function tracingPublishWrapper(options: MessagingTracingOptions = {}): PublishWrapper {
  const messagingSystem = options.messagingSystem ?? "micro";
  return (next) => async (request) => {
    const api = otelLoaded() ?? (await loadOtel());
    const attributes: Attributes = {
      "messaging.system": messagingSystem,
      "messaging.destination.name": request.topic,
      "messaging.operation.type": "send",
      "messaging.operation.name": "publish",
    };
    await inSpan(api, `publish ${request.topic}`, api.SpanKind.PRODUCER, attributes, api.context.active(), () => {
      const metadata = { ...request.options.metadata };
      api.propagation.inject(api.context.active(), metadata, metadataSetter);
      return next({ ...request, options: { ...request.options, metadata } });
    });
  };
}

/**
 * A CONSUMER span around each delivered message, named `process <topic>`, child of the publisher's span
 * (from the message header); the subscriber runs with it active.
 */
export function tracingSubscriberWrapper(options: MessagingTracingOptions = {}): SubscriberWrapper {
  const messagingSystem = options.messagingSystem ?? "micro";
  return (next) => async (event) => {
    const api = otelLoaded() ?? (await loadOtel());
    const parent = api.propagation.extract(api.ROOT_CONTEXT, event.metadata, metadataGetter);
    const id = metadataGetter.get(event.metadata, "Micro-Id");
    const attributes: Attributes = {
      "messaging.system": messagingSystem,
      "messaging.destination.name": event.topic,
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      ...(typeof id === "string" ? { "messaging.message.id": id } : {}),
    };
    await inSpan(api, `process ${event.topic}`, api.SpanKind.CONSUMER, attributes, parent, () => next(event));
  };
}
