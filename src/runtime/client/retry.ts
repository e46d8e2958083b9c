/**
 * The client's retry policy — its one home, as Go Micro's `client/retry.go`: which errors are retried (those
 * {@link classify} calls retryable: timeouts and connection failures, never application errors), how often
 * (default 1 retry), and when: the first retry at once (the failed node is already marked, so the selector
 * picks another), later ones after exponential backoff (cockatiel, defaults 25 ms doubling up to 1000 ms).
 */
import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from "cockatiel";
import { classify } from "../errors/classify.js";

/** Retries when neither the client nor the call says (Go Micro's default). */
export const DEFAULT_RETRIES = 1;
/** Backoff between retries after the first, immediate one (milliseconds). */
export const DEFAULT_BACKOFF = { initialDelay: 25, maxDelay: 1000 } as const;

/** Whether a failed attempt may be tried again (on another node). */
export const isRetryable = (error: unknown): boolean => classify(error).retryable;

export interface RetryOptions {
  /** Retries on retryable errors (default {@link DEFAULT_RETRIES}). */
  retries?: number;
  backoff?: { initialDelay?: number; maxDelay?: number };
}

export class Retrier {
  /** Retries of a call that gives none. */
  readonly retries: number;
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  /** One cockatiel policy per retry count, built on first use. */
  private readonly policies = new Map<number, RetryPolicy>();

  constructor(options: RetryOptions) {
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.initialDelay = options.backoff?.initialDelay ?? DEFAULT_BACKOFF.initialDelay;
    this.maxDelay = options.backoff?.maxDelay ?? DEFAULT_BACKOFF.maxDelay;
  }

  /**
   * `attempt(arg)`, tried again up to `retries` times while it fails with a retryable error and `signal` has
   * not fired. The first attempt runs without the policy (nothing allocated when it succeeds), the first
   * retry at once, the rest after backoff.
   */
  run<A>(attempt: (arg: A) => Promise<unknown>, arg: A, retries: number, signal: AbortSignal | undefined): Promise<unknown> {
    const first = attempt(arg);
    if (retries <= 0) return first;
    return first.catch((error: unknown) => {
      if (!isRetryable(error) || signal?.aborted) throw error;
      return this.policy(retries).execute(() => attempt(arg), signal);
    });
  }

  private policy(retries: number): RetryPolicy {
    let p = this.policies.get(retries);
    if (p === undefined) {
      // The policy's first execution (the first retry) runs at once; the remaining ones back off exponentially.
      p = retry(handleWhen(isRetryable), {
        maxAttempts: retries - 1,
        backoff: new ExponentialBackoff({ initialDelay: this.initialDelay, maxDelay: this.maxDelay }),
      });
      this.policies.set(retries, p);
    }
    return p;
  }
}
