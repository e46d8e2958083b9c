/**
 * Metrics wrappers: requests, latency and in-flight per service and endpoint for handlers and client calls,
 * deliveries for subscribers; and decorators for what has no wrapper: broker publishes and registry lookups.
 * prom-client is loaded when a wrapper is created; calls made before it is ready wait for it once.
 */
import type { Broker } from "../broker/index.js";
import type { ClientWrapper } from "../client/index.js";
import type { Registry } from "../registry/index.js";
import type { HandlerWrapper, SubscriberWrapper } from "../server/index.js";
import { codeOf, metricsForWrapper, type Cell, type MetricsOptions, type MicroMetrics } from "./metrics.js";

type Side = "server" | "client";

function requestWrapper<R extends { readonly service: string; readonly endpoint: string }>(side: Side, options: MetricsOptions) {
  const metrics = metricsForWrapper(options);
  // The cells and histogram child of each service and endpoint, made once: no label hashing per call but the histogram's.
  const children = new Map<string, { inflight: Cell; ok: Cell; duration: ReturnType<MicroMetrics["serverDuration"]["labels"]> }>();
  const childOf = (m: MicroMetrics, service: string, endpoint: string) => {
    const key = `${service}\u0000${endpoint}`;
    let c = children.get(key);
    if (c === undefined) {
      c =
        side === "server"
          ? { inflight: m.serverInFlight.cell(service, endpoint), ok: m.serverRequests.cell(service, endpoint, "200"), duration: m.serverDuration.labels(service, endpoint) }
          : { inflight: m.clientInFlight.cell(service, endpoint), ok: m.clientRequests.cell(service, endpoint, "200"), duration: m.clientDuration.labels(service, endpoint) };
      children.set(key, c);
    }
    return c;
  };
  return (next: (request: R) => unknown) =>
    async (request: R): Promise<unknown> => {
      const m = metrics.current() ?? (await metrics.ready);
      if (m === undefined) return next(request);
      const c = childOf(m, request.service, request.endpoint);
      const start = performance.now();
      c.inflight.n++;
      try {
        const result = await next(request);
        c.ok.n++;
        return result;
      } catch (error) {
        (side === "server" ? m.serverRequests : m.clientRequests).cell(request.service, request.endpoint, codeOf(error)).n++;
        throw error;
      } finally {
        c.inflight.n--;
        c.duration.observe((performance.now() - start) / 1000);
      }
    };
}

/** Handler metrics: `micro_server_requests_total`, `…_duration_seconds`, `…_in_flight` (streams: until the handler returns). */
export function metricsHandlerWrapper(options: MetricsOptions = {}): HandlerWrapper {
  return requestWrapper("server", options) as HandlerWrapper;
}

/** Client metrics: `micro_client_requests_total` (after retries), `…_duration_seconds`, `…_in_flight`. */
export function metricsClientWrapper(options: MetricsOptions = {}): ClientWrapper {
  return requestWrapper("client", options) as ClientWrapper;
}

/** Subscriber metrics: `micro_broker_deliveries_total` by topic and code, `micro_broker_delivery_duration_seconds`. */
export function metricsSubscriberWrapper(options: MetricsOptions = {}): SubscriberWrapper {
  const metrics = metricsForWrapper(options);
  return (next) => async (event) => {
    const m = metrics.current() ?? (await metrics.ready);
    if (m === undefined) return next(event);
    const start = performance.now();
    try {
      await next(event);
      m.deliveries.labels(event.topic, "200").inc();
    } catch (error) {
      m.deliveries.labels(event.topic, codeOf(error)).inc();
      throw error;
    } finally {
      m.deliveryDuration.labels(event.topic).observe((performance.now() - start) / 1000);
    }
  };
}

/** `target` with one method replaced (`replacement` gets the original, bound); every other member as it is. */
function withMethod<T extends object, K extends keyof T>(target: T, key: K, replacement: (original: T[K]) => T[K]): T {
  const method = replacement((target[key] as (...a: unknown[]) => unknown).bind(target) as T[K]);
  return new Proxy(target, {
    get(t, k, receiver) {
      if (k === key) return method;
      const value = Reflect.get(t, k, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/** `broker` with its publishes counted in `micro_broker_publishes_total` (everything else as it is). */
export function instrumentBroker(broker: Broker, options: MetricsOptions = {}): Broker {
  const metrics = metricsForWrapper(options);
  return withMethod(broker, "publish", (publish) => async (topic, message) => {
    const m = metrics.current() ?? (await metrics.ready);
    try {
      await publish(topic, message);
      m?.publishes.labels(topic, "200").inc();
    } catch (error) {
      m?.publishes.labels(topic, codeOf(error)).inc();
      throw error;
    }
  });
}

/** `registry` with its lookups (`getService`) counted in `micro_registry_lookups_total`. */
export function instrumentRegistry(registry: Registry, options: MetricsOptions = {}): Registry {
  const metrics = metricsForWrapper(options);
  return withMethod(registry, "getService", (getService) => async (...args) => {
    const m = metrics.current() ?? (await metrics.ready);
    try {
      const records = await getService(...args);
      m?.registryLookups.labels(args[0], "ok").inc();
      return records;
    } catch (error) {
      m?.registryLookups.labels(args[0], "error").inc();
      throw error;
    }
  });
}
