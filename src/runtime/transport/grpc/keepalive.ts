/** HTTP/2 PINGs on an interval; a PING not answered in time closes the connection (both ends use it). */
import type { Http2Session } from "node:http2";
import type { Logger } from "../../logger/index.js";

/** Start pinging `session`; returns the stop function (call it when the session closes). */
export function startKeepalive(session: Http2Session, opts: { keepaliveInterval: number; keepaliveTimeout: number }, log: Logger): () => void {
  let waiting: NodeJS.Timeout | undefined;
  const interval = setInterval(() => {
    if (waiting !== undefined || session.destroyed || session.closed) return;
    waiting = setTimeout(() => {
      log.warn({ timeout: opts.keepaliveTimeout }, "closing gRPC connection: keepalive PING not answered");
      session.destroy();
    }, opts.keepaliveTimeout);
    waiting.unref();
    try {
      session.ping((err) => {
        clearTimeout(waiting);
        waiting = undefined;
        if (err) log.debug({ err }, "keepalive PING failed");
      });
    } catch (err) {
      clearTimeout(waiting);
      waiting = undefined;
      log.debug({ err }, "keepalive PING not sent");
    }
  }, opts.keepaliveInterval);
  interval.unref();
  return () => {
    clearInterval(interval);
    clearTimeout(waiting);
  };
}
