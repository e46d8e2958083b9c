/**
 * Logging wrappers: one structured line per call (endpoint, duration, error) through the runtime logger.
 * The log level is chosen once per outcome: success at `debug` (off by default), failure at `warn`.
 */
import type { ClientRequest, ClientWrapper } from "../client/index.js";
import { fromError } from "../errors/index.js";
import { logger, type Logger } from "../logger/index.js";
import type { HandlerRequest, HandlerWrapper, SubscriberWrapper } from "../server/index.js";

export interface LogWrapperOptions {
  /** The logger to use (default `logger("wrapper")`). */
  logger?: Logger;
  /** Level of successful calls (default `debug`). */
  level?: Level;
}

type Level = "trace" | "debug" | "info";

function errorFields(error: unknown): Record<string, unknown> {
  const e = fromError(error);
  return { code: e.code, error: e.detail, errorId: e.id };
}

/** The wrapper of both request sides: one line per request, `done` at `level`, `failed` at `warn`. */
function logRequests<R extends { readonly service: string; readonly endpoint: string }>(log: Logger, level: Level, done: string, failed: string) {
  return (next: (request: R) => unknown) => async (request: R): Promise<unknown> => {
    const start = performance.now();
    try {
      const result = await next(request);
      log[level]({ service: request.service, endpoint: request.endpoint, ms: +(performance.now() - start).toFixed(3) }, done);
      return result;
    } catch (error) {
      log.warn({ service: request.service, endpoint: request.endpoint, ms: +(performance.now() - start).toFixed(3), ...errorFields(error) }, failed);
      throw error;
    }
  };
}

/** Logs every handled request: endpoint, caller-visible duration in ms, and the error if any. */
export function logHandlerWrapper(options: LogWrapperOptions = {}): HandlerWrapper {
  return logRequests<HandlerRequest>(options.logger ?? logger("wrapper", { side: "server" }), options.level ?? "debug", "handled", "handler failed");
}

/** Logs every client call (after retries): service, endpoint, duration in ms, and the error if any. */
export function logClientWrapper(options: LogWrapperOptions = {}): ClientWrapper {
  return logRequests<ClientRequest>(options.logger ?? logger("wrapper", { side: "client" }), options.level ?? "debug", "called", "call failed");
}

/** Logs every message a subscriber handles. */
export function logSubscriberWrapper(options: LogWrapperOptions = {}): SubscriberWrapper {
  const log = options.logger ?? logger("wrapper", { side: "subscriber" });
  const level = options.level ?? "debug";
  return (next) => async (event) => {
    const start = performance.now();
    try {
      await next(event);
      log[level]({ topic: event.topic, ms: +(performance.now() - start).toFixed(3) }, "message handled");
    } catch (error) {
      log.warn({ topic: event.topic, ...errorFields(error) }, "subscriber failed");
      throw error;
    }
  };
}
