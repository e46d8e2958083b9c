/**
 * Watches one call's AbortSignal: cancels the transport stream when it fires and turns the resulting error
 * into a 499 "cancelled" MicroError. (Deadlines are enforced by the transport, from the request header.)
 */
import { MicroError } from "../errors/index.js";
import type { ClientStream } from "../transport/index.js";

export class CallGuard {
  private aborted = false;
  private readonly onAbort: () => void;

  constructor(
    stream: ClientStream,
    private readonly endpoint: string,
    private readonly signal: AbortSignal,
  ) {
    this.onAbort = () => {
      this.aborted = true;
      stream.cancel(reasonText(signal.reason));
    };
    if (signal.aborted) this.onAbort();
    else signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** The error to surface for what the stream threw. */
  map(error: unknown): unknown {
    return this.aborted ? cancelled(this.endpoint, this.signal.reason) : error;
  }

  done(): void {
    this.signal.removeEventListener("abort", this.onAbort);
  }
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? "cancelled by the client" : String(reason);
}

/** The error a call rejects with when its AbortSignal fires. */
export function cancelled(endpoint: string, reason?: unknown): MicroError {
  return new MicroError("micro.client", 499, `${endpoint}: call cancelled (${reasonText(reason)})`);
}
