/**
 * Rate limiting wrappers on rate-limiter-flexible: at most `rate` calls per `per` seconds (per key, by
 * default per endpoint). Calls over the limit fail at once with a 429 MicroError; nothing queues.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { ClientRequest, ClientWrapper } from "../client/index.js";
import { MicroError } from "../errors/index.js";
import type { HandlerRequest, HandlerWrapper } from "../server/index.js";
import { positiveNumber } from "../internal/option-values.js";

/** The error id of the rate limit wrappers: a call over the limit (429) and a bad option (400). */
const ID = "micro.ratelimit";

export interface RateLimitOptions<R> {
  /** Calls allowed per window. */
  rate: number;
  /** Window length in seconds (default 1). */
  per?: number;
  /** What shares a budget (default: the endpoint). */
  key?: (request: R) => string;
}

function limiter(options: { rate: number; per?: number }): RateLimiterMemory {
  const rate = positiveNumber(options.rate ?? Number.NaN, Number.NaN, ID, "rate limit", "rate", { unit: "calls" });
  const per = positiveNumber(options.per, 1, ID, "rate limit", "per", { unit: "seconds" });
  return new RateLimiterMemory({ points: rate, duration: per });
}

async function take(rl: RateLimiterMemory, key: string, id: string, rate: number, per: number): Promise<void> {
  try {
    await rl.consume(key);
  } catch (e) {
    if (e instanceof RateLimiterRes) {
      throw new MicroError(id, 429, `rate limit of ${rate} per ${per}s exceeded for ${key}; retry in ${Math.ceil(e.msBeforeNext)} ms`);
    }
    throw e;
  }
}

/** Server side: rejects requests over the limit with 429 before the handler runs. */
export function rateLimitHandlerWrapper(options: RateLimitOptions<HandlerRequest>): HandlerWrapper {
  const rl = limiter(options);
  const per = options.per ?? 1;
  const keyOf = options.key ?? ((r: HandlerRequest) => r.endpoint);
  return (next) => async (request) => {
    await take(rl, keyOf(request), ID, options.rate, per);
    return next(request);
  };
}

/** Client side: rejects calls over the limit with 429 before anything is sent. */
export function rateLimitClientWrapper(options: RateLimitOptions<ClientRequest>): ClientWrapper {
  const rl = limiter(options);
  const per = options.per ?? 1;
  const keyOf = options.key ?? ((r: ClientRequest) => `${r.service} ${r.endpoint}`);
  return (next) => async (request) => {
    await take(rl, keyOf(request), ID, options.rate, per);
    return next(request);
  };
}
