/**
 * Tracing wrappers for the production-overhead benchmark: a span per call through `@opentelemetry/api` only
 * (with no SDK installed its tracer is the no-op one, as in a service that has not configured tracing). A
 * stand-in for the runtime's own tracing wrappers, which live on another branch at the time of writing.
 */
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ClientWrapper, HandlerWrapper } from "../../src/index.js";

export const BENCH_SECRET = "bench-secret-of-at-least-32-bytes!!";

const tracer = trace.getTracer("micro-ts-bench");

function spanned<R extends { service: string; endpoint: string }>(kind: SpanKind) {
  return (next: (r: R) => unknown) => (request: R) =>
    tracer.startActiveSpan(request.endpoint, { kind, attributes: { "rpc.system": "micro", "rpc.service": request.service, "rpc.method": request.endpoint } }, async (span) => {
      try {
        return await next(request);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        throw error;
      } finally {
        span.end();
      }
    });
}

export const tracingHandlerWrapper = (): HandlerWrapper => spanned(SpanKind.SERVER) as HandlerWrapper;
export const tracingClientWrapper = (): ClientWrapper => spanned(SpanKind.CLIENT) as ClientWrapper;
