/**
 * Circuit breaking on cockatiel, per node (a call wrapper, so a broken node is skipped while others serve):
 * after `threshold` consecutive failures the circuit opens and calls to that node fail at once with a
 * retryable 503, so the client's retry goes to another node; after `halfOpenAfter` ms one trial call decides.
 * Only failures of the node count (timeouts, connection failures, 5xx), never application 4xx errors.
 */
import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from "cockatiel";
import type { CallWrapper } from "../client/index.js";
import { MicroError } from "../errors/index.js";
import { classify } from "../errors/classify.js";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  threshold?: number;
  /** Milliseconds before a trial call is let through (default 10000). */
  halfOpenAfter?: number;
}

const countsAgainstNode = (error: unknown): boolean => classify(error).countsAgainstNode;

/** A call wrapper with one breaker per service node. */
export function circuitBreakerWrapper(options: CircuitBreakerOptions = {}): CallWrapper {
  const threshold = options.threshold ?? 5;
  const halfOpenAfter = options.halfOpenAfter ?? 10_000;
  const breakers = new Map<string, CircuitBreakerPolicy>();
  const breakerFor = (key: string): CircuitBreakerPolicy => {
    let b = breakers.get(key);
    if (b === undefined) {
      b = circuitBreaker(handleWhen(countsAgainstNode), { halfOpenAfter, breaker: new ConsecutiveBreaker(threshold) });
      breakers.set(key, b);
    }
    return b;
  };
  return (next) => async (node, request) => {
    const key = `${request.service}\u0000${node.address}`;
    try {
      return await breakerFor(key).execute(() => next(node, request));
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new MicroError("micro.circuitbreaker", 503, `circuit open for ${request.service} at ${node.address} after ${threshold} consecutive failures; retrying in up to ${halfOpenAfter} ms`);
      }
      throw error;
    }
  };
}
