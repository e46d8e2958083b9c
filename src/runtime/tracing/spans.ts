/**
 * Span mechanics the tracing wrappers and the gateway share: run work inside a span (its context active,
 * so onward calls become children), finish it from an outcome (MicroError → status ERROR with the detail,
 * the exception recorded), and keep a span open over a stream until the stream ends.
 */
import type { Attributes, Context, Span, SpanKind } from "@opentelemetry/api";
import { fromError } from "../errors/index.js";
import type { Otel } from "./otel.js";

/** The tracer name every micro-ts span is created under. */
export const TRACER_NAME = "micro-ts";

/** The status attribute of an RPC span: its name and value for a MicroError code (200: success). */
export type StatusAttribute = (code: number) => readonly [string, number];

/** Mark a span failed: status ERROR with the MicroError detail, the exception recorded, `error.type` (the error id) and the status attribute. */
export function recordFailure(api: Otel, span: Span, error: unknown, status?: StatusAttribute): void {
  const e = fromError(error);
  span.recordException(error instanceof Error ? error : { name: e.id || "MicroError", message: e.detail });
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: e.detail });
  span.setAttribute("error.type", e.id || String(e.code));
  if (status) span.setAttribute(...status(e.code));
}

/**
 * Run `work` in a new span of `kind` under `parent`, with the span's context active. A promise result ends the
 * span when it settles; an AsyncIterable result (a stream) ends it when the stream ends, each step running in
 * the span's context. `onSuccess` may add attributes before the end.
 */
export async function inSpan<R>(
  api: Otel,
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  parent: Context,
  work: () => Promise<R> | R,
  options: { status?: StatusAttribute; stream?: boolean } = {},
): Promise<R> {
  const span = api.trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes }, parent);
  const ctx = api.trace.setSpan(parent, span);
  const ok = (): void => {
    if (options.status) span.setAttribute(...options.status(200));
    span.end();
  };
  const fail = (error: unknown): void => {
    recordFailure(api, span, error, options.status);
    span.end();
  };
  let result: R;
  try {
    result = await api.context.with(ctx, work);
  } catch (error) {
    fail(error);
    throw error;
  }
  if (options.stream && isAsyncIterable(result)) return spanOverStream(api, ctx, result, ok, fail) as R;
  ok();
  return result;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

/** `stream`, with each step in `ctx`, calling `ok` when it completes or is closed early and `fail` when it throws (once). */
function spanOverStream<T>(api: Otel, ctx: Context, stream: AsyncIterable<T>, ok: () => void, fail: (error: unknown) => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = api.context.with(ctx, () => stream[Symbol.asyncIterator]());
      let ended = false;
      const end = (error?: unknown, failed = false): void => {
        if (ended) return;
        ended = true;
        if (failed) fail(error);
        else ok();
      };
      const step = (run: () => Promise<IteratorResult<T>>): Promise<IteratorResult<T>> =>
        api.context.with(ctx, run).then(
          (r) => {
            if (r.done) end();
            return r;
          },
          (error: unknown) => {
            end(error, true);
            throw error;
          },
        );
      return {
        next: (...args: [] | [unknown]) => step(() => it.next(...args)),
        return: (value?: unknown) => {
          end();
          return it.return ? api.context.with(ctx, () => it.return!(value)) : Promise.resolve({ done: true, value: value as T });
        },
        throw: (error?: unknown) => (it.throw ? step(() => it.throw!(error)) : Promise.reject(error)),
      };
    },
  };
}
