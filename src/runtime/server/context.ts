/**
 * The context a handler receives beside its request (Go Micro's server context).
 */
import type { Metadata } from "../metadata/index.js";
import type { ServerStream } from "../transport/index.js";
import type { Account, Context } from "./server.js";

/**
 * A handler's context. The signal and the response metadata are created only when the handler touches
 * them, so a plain unary handler costs no AbortSignal and no extra object.
 */
export class CallContext implements Context {
  readonly service: string;
  readonly endpoint: string;
  readonly metadata: Readonly<Metadata>;
  readonly deadline: number | undefined;
  /** Set by the auth handler wrapper once the caller's token is verified. */
  account: Account | undefined = undefined;
  private response: Metadata | undefined;

  /** `service` is the server's name (a gRPC request names a package, not the micro service). */
  constructor(
    private readonly stream: ServerStream,
    service: string = stream.header.service,
  ) {
    const h = stream.header;
    this.service = service;
    this.endpoint = h.endpoint;
    this.metadata = h.metadata;
    this.deadline = h.deadline;
  }

  get signal(): AbortSignal {
    return this.stream.signal;
  }
  get responseMetadata(): Metadata {
    return (this.response ??= {});
  }
  /** The response metadata to send, if the handler set any. */
  sentMetadata(): Metadata | undefined {
    return this.response;
  }
}
