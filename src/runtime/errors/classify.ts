/**
 * The one rule for "what does this error say about the call and the node" (Go Micro's `client/retry.go`,
 * Moleculer's retryable errors). The client's retries, the selector's ejection, the circuit breaker, the
 * direct broker's fan-out and the command line's hints all ask {@link classify}; nothing else decides.
 */
import { MicroError } from "./index.js";

/**
 * What kind of failure an error is:
 * - `unreachable`: the node could not be reached or the connection was lost (a socket error such as
 *   ECONNREFUSED anywhere in the `cause` chain, or a 502/503 raised by the runtime itself);
 * - `timeout`: a 408 or 504 (the deadline passed);
 * - `cancelled`: a 499 (the caller gave up);
 * - `server`: any other 5xx, or anything thrown that is not a MicroError;
 * - `request`: any other 4xx — the request itself was refused (bad input, not found, forbidden, …).
 */
export type FailureKind = "unreachable" | "timeout" | "cancelled" | "server" | "request";

export interface Classification {
  readonly kind: FailureKind;
  /**
   * Another attempt (at another node) may succeed: `unreachable`, or a `timeout` raised by the runtime, and
   * not marked {@link markFinal}. An application's own error is never retried, whatever its code.
   */
  readonly retryable: boolean;
  /** The node itself failed (`unreachable`, or a runtime `timeout`): the selector ejects it until a probe succeeds. */
  readonly nodeFailure: boolean;
  /** Counts against the node's health (circuit breaking): every kind but `request` and `cancelled`. */
  readonly countsAgainstNode: boolean;
}

/** Socket error codes that mean the peer could not be reached (as opposed to the call failing there). */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
]);

/** Errors after which no retry may run (a request stream already consumed, a closed client). */
const finals = new WeakSet<object>();

/** Mark an error as final: {@link classify} reports it as not retryable. Returns the error. */
export function markFinal<E>(error: E): E {
  if (error !== null && typeof error === "object") finals.add(error);
  return error;
}

/** Whether an id names the runtime itself (`micro.*`, or no id at all) rather than an application. */
export function isRuntimeErrorId(id: string): boolean {
  return id === "" || id === "micro" || id.startsWith("micro.") || id.startsWith("micro-");
}

/** Whether `test` holds for a socket error code on the error or anywhere in its `cause` chain (5 levels). */
function someCode(error: unknown, test: (code: string) => boolean): boolean {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && test(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Whether a socket error code (ECONNREFUSED, …) is on the error or anywhere in its `cause` chain. */
export function hasNetworkCode(error: unknown): boolean {
  return someCode(error, (code) => NETWORK_ERROR_CODES.has(code));
}

/** Whether the peer refused the connection (ECONNREFUSED on the error or anywhere in its `cause` chain). */
export function isConnectionRefused(error: unknown): boolean {
  return someCode(error, (code) => code === "ECONNREFUSED");
}

/** Whether a listen failed because the port is taken (EADDRINUSE on the error or anywhere in its `cause` chain). */
export function isAddressInUse(error: unknown): boolean {
  return someCode(error, (code) => code === "EADDRINUSE");
}

function kindOf(error: unknown): FailureKind {
  if (error instanceof MicroError) {
    const c = error.code;
    if ((c === 502 || c === 503) && isRuntimeErrorId(error.id)) return "unreachable";
    if (c === 408 || c === 504) return "timeout";
    if (c === 499) return "cancelled";
    if (c >= 500) return hasNetworkCode(error.cause) ? "unreachable" : "server";
    return "request";
  }
  return hasNetworkCode(error) ? "unreachable" : "server";
}

/** Classify any thrown value; see {@link Classification}. */
export function classify(error: unknown): Classification {
  const kind = kindOf(error);
  const runtime = !(error instanceof MicroError) || isRuntimeErrorId(error.id);
  const nodeFailure = kind === "unreachable" || (kind === "timeout" && runtime);
  const final = error !== null && typeof error === "object" && finals.has(error);
  return { kind, retryable: nodeFailure && !final, nodeFailure, countsAgainstNode: kind !== "request" && kind !== "cancelled" };
}

/** Shorthand for `classify(error).kind === "unreachable"`: the peer could not be reached. */
export function isUnreachable(error: unknown): boolean {
  return kindOf(error) === "unreachable";
}
