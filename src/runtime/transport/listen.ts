/**
 * The socket chores every transport shares: binding its server to `host:port` (every interface for an empty
 * host; a clear 500 when that fails, a taken port says so; the real port when asked for 0), and waiting for a
 * dialled connection within a timeout and an abort signal.
 */
import type { Server } from "node:net";
import { MicroError } from "../errors/index.js";
import type { Logger } from "../logger/index.js";
import { TRANSPORT_ERROR_ID } from "./index.js";

/** Listen on `host:port`; resolves with the bound port. Later server errors are logged on `log`. */
export async function bindServer(server: Server, address: string, host: string, port: number, log: Logger): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) =>
      reject(new MicroError(TRANSPORT_ERROR_ID, 500, `cannot listen on ${address}: ${e.code ?? e.message}${e.code === "EADDRINUSE" ? " (the port is taken; use another, a range or port 0)" : ""}`, undefined, { cause: e }));
    server.once("error", onError);
    server.listen(host === "" ? { port } : { host, port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
  server.on("error", (e) => log.error({ err: e, address }, "listener error"));
  const bound = server.address();
  return typeof bound === "object" && bound ? bound.port : port;
}

/** The longest delay setTimeout honours (2³¹−1 ms). */
const MAX_TIMER = 0x7fffffff;

/**
 * Wait for a connection being dialled: `start` gets `resolve`/`reject` and wires the socket's events to them;
 * the wait fails with `fail("no answer within …")` after `timeout` ms and with `fail("aborted")` when `signal`
 * aborts. The caller destroys its socket when this rejects.
 */
export async function dialWithin(
  timeout: number,
  signal: AbortSignal | undefined,
  fail: (why: string) => MicroError,
  start: (resolve: () => void, reject: (error: unknown) => void) => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(fail(`no answer within ${timeout}ms`)), Math.min(MAX_TIMER, Math.max(0, timeout)));
      onAbort = () => reject(fail("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      start(resolve, reject);
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}
