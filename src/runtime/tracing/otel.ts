/**
 * The one door to `@opentelemetry/api`: loaded at the first traced call (so a process that does not trace
 * never loads it), and the text-map carrier over micro's {@link Metadata} that `propagation.inject/extract`
 * use to move W3C `traceparent`/`tracestate` through call metadata and broker message headers.
 */
import type * as OtelApi from "@opentelemetry/api";
import type { Metadata } from "../metadata/index.js";

export type Otel = typeof OtelApi;

let loaded: Otel | undefined;
let loading: Promise<Otel> | undefined;

/** `@opentelemetry/api`, once loaded (undefined before the first traced call). */
export function otelLoaded(): Otel | undefined {
  return loaded;
}

/** Load `@opentelemetry/api` (once); later calls resolve at once. */
export function loadOtel(): Promise<Otel> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= import("@opentelemetry/api").then((api) => (loaded = api));
  return loading;
}

/**
 * Reads metadata keys case-insensitively: HTTP headers arrive lower-case, a Go Micro peer may send
 * `Traceparent`. Exact match first (the common case costs one lookup).
 */
export const metadataGetter: OtelApi.TextMapGetter<Readonly<Metadata>> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const exact = carrier[key];
    if (exact !== undefined) return exact;
    const lower = key.toLowerCase();
    for (const k of Object.keys(carrier)) if (k.toLowerCase() === lower) return carrier[k];
    return undefined;
  },
};

/** Writes propagation keys (lower-case `traceparent`, `tracestate`, baggage) into metadata being built. */
export const metadataSetter: OtelApi.TextMapSetter<Metadata> = {
  set(carrier, key, value) {
    // One key per name: a differently cased copy the caller passed on would otherwise travel beside it.
    for (const k of Object.keys(carrier)) if (k !== key && k.toLowerCase() === key) delete carrier[k];
    carrier[key] = value;
  },
};
