/**
 * Health checking of the app (`--app_health`): `GET <url>` on an interval; a 2xx answer in time (the interval,
 * but at least 2 s and at most 5 s: a busy machine must not make a healthy app look dead) is healthy, anything
 * else (an error status, no answer, a refused connection) is not. Checks never overlap. Each
 * change is reported once, so the sidecar deregisters the app at the first failed check and registers it
 * again at the first good one.
 */
import { logger } from "../runtime/logger/index.js";

const log = logger("sidecar");

export interface HealthCheck {
  /** The result of one check now (also reported through onChange when it changed). */
  check(): Promise<boolean>;
  stop(): void;
}

/** One `GET url`: whether it answered 2xx within `timeout` ms, and why not. */
async function probe(url: string, timeout: number): Promise<{ ok: boolean; reason: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });
    // The body is not needed; cancel it so the connection is released.
    await res.body?.cancel();
    return { ok: res.ok, reason: `HTTP ${res.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { ok: false, reason: cause?.code ?? (error as Error).name ?? String(error) };
  }
}

/**
 * Check `url` every `intervalMs` (the first check runs at once); `onChange(healthy)` is awaited for every
 * change from the previous result (the first result counts as a change from `initial`).
 */
export function startHealthCheck(url: string, intervalMs: number, onChange: (healthy: boolean) => Promise<void>, initial = false): HealthCheck {
  let last = initial;
  let running: Promise<boolean> | undefined;
  let stopped = false;
  const check = (): Promise<boolean> =>
    (running ??= (async () => {
      const { ok, reason } = await probe(url, Math.min(Math.max(intervalMs, 2000), 5000));
      if (!stopped && ok !== last) {
        last = ok;
        if (ok) log.info({ url }, "app is healthy");
        else log.warn({ url, reason }, "app health check failed");
        await onChange(ok);
      }
      return ok;
    })().finally(() => (running = undefined)));
  const timer = setInterval(() => void check(), intervalMs);
  void check();
  return {
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
