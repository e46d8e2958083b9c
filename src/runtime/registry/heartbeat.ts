/**
 * The heartbeat that keeps registrations alive (Go Micro's register interval): whoever registers with a TTL —
 * the server's node, the direct broker's subscriptions — renews on an interval while its process lives, so a
 * killed process expires with its TTL. The timer never holds the process open (what serves does).
 */

/** A running heartbeat; `stop()` ends it (idempotent). */
export interface Heartbeat {
  stop(): void;
}

/** Call `renew` every `intervalMs` until stopped. `renew` reports its own failures (the next beat tries again). */
export function startHeartbeat(intervalMs: number, renew: () => void): Heartbeat {
  let timer: NodeJS.Timeout | undefined = setInterval(renew, intervalMs);
  timer.unref();
  return {
    stop(): void {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
