/**
 * Gateway tracing (`micro api --tracing`): a SERVER span per HTTP request, child of an incoming W3C
 * `traceparent` header, active while the request is handled so the backend call's CLIENT span is its child.
 * Attributes per OpenTelemetry's HTTP semantic conventions; a 5xx answer marks the span ERROR.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { fromError } from "../runtime/errors/index.js";
import { loadOtel, metadataGetter, otelLoaded, TRACER_NAME } from "../runtime/tracing/index.js";
import type { Metadata } from "../runtime/metadata/index.js";

/** Handle one request inside its SERVER span; the span ends when the response is finished or the connection closes. */
export async function traceRequest(req: FastifyRequest, reply: FastifyReply, handle: () => Promise<void>): Promise<void> {
  const api = otelLoaded() ?? (await loadOtel());
  const parent = api.propagation.extract(api.ROOT_CONTEXT, req.headers as Metadata, metadataGetter);
  const url = req.raw.url ?? "/";
  const q = url.indexOf("?");
  const span = api.trace.getTracer(TRACER_NAME).startSpan(
    req.method,
    {
      kind: api.SpanKind.SERVER,
      attributes: {
        "http.request.method": req.method,
        "url.path": q < 0 ? url : url.slice(0, q),
        "url.scheme": "http",
        ...(req.headers["user-agent"] ? { "user_agent.original": req.headers["user-agent"] } : {}),
      },
    },
    parent,
  );
  let ended = false;
  let failure: string | undefined;
  const end = (): void => {
    if (ended) return;
    ended = true;
    const status = reply.raw.statusCode;
    span.setAttribute("http.response.status_code", status);
    if (status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR, ...(failure ? { message: failure } : {}) });
    span.end();
  };
  reply.raw.once("close", end);
  try {
    await api.context.with(api.trace.setSpan(parent, span), handle);
  } catch (error) {
    // The exception is recorded; whether it is a span error is the HTTP status's call (5xx), at the end.
    const e = fromError(error);
    span.recordException(error instanceof Error ? error : { name: e.id || "MicroError", message: e.detail });
    span.setAttribute("error.type", e.id || String(e.code));
    failure = e.detail;
    throw error;
  }
}

/** Name the route the request matched (`http.route`, and the span name `METHOD route`) on the active gateway span. */
export function setHttpRoute(method: string, route: string): void {
  const span = otelLoaded()?.trace.getActiveSpan();
  if (!span) return;
  span.setAttribute("http.route", route);
  span.updateName(`${method} ${route}`);
}
