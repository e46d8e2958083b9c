/**
 * The client's end of one gRPC call: request messages framed onto the HTTP/2 stream with its backpressure,
 * responses from the {@link Receiver}, the status from the trailers (or a trailers-only response), the
 * deadline enforced here as well as sent as `grpc-timeout`, and cancel as RST_STREAM(CANCEL).
 */
import { EventEmitter, once } from "node:events";
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { MicroError } from "../../errors/index.js";
import type { Metadata } from "../../metadata/index.js";
import type { ClientStream, StreamTrailer } from "../index.js";
import { FrameWriter } from "./writer.js";
import { decodeGrpcMessage, errorFromStatus } from "./status.js";
import { headersToMetadata } from "./headers.js";
import { ID } from "./options.js";
import { Receiver } from "./receiver.js";
import { DONE } from "../tcp/inbox.js";

const MAX_TIMER = 0x7fffffff;

/**
 * An instance of node's internal AbortError: `Http2Stream.destroy(err)` resets with CANCEL for exactly that
 * class. `events.once` with an aborted signal is the public way to get one (settles in a microtask at load).
 */
let abortError: Error | undefined;
once(new EventEmitter(), "never", { signal: AbortSignal.abort() }).catch((e: Error) => (abortError = e));
const EMPTY: Metadata = Object.freeze({}) as Metadata;

export class GrpcClientStream implements ClientStream {
  readonly trailer: Promise<StreamTrailer>;
  private resolveTrailer!: (t: StreamTrailer) => void;
  private receiver: Receiver | undefined;
  private finished = false;
  private sendClosed = false;
  private error: MicroError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private metadata: Metadata = EMPTY;
  private writer: FrameWriter | undefined;

  constructor(
    private readonly stream: ClientHttp2Stream | undefined,
    private readonly target: string,
    gzip: boolean,
    maxMessageSize: number,
    deadline: number | undefined,
    private readonly onDone: () => void,
    /** A stream that could not be opened: fails at once with this. */
    failure?: MicroError,
  ) {
    this.trailer = new Promise((resolve) => (this.resolveTrailer = resolve));
    if (stream === undefined) {
      this.finish(failure ?? new MicroError(ID, 503, `cannot open a stream to ${target}`));
      return;
    }
    this.writer = new FrameWriter(stream, gzip);
    this.receiver = new Receiver(stream, maxMessageSize, true, (error) => this.abort(error));
    stream.on("response", (headers: IncomingHttpHeaders) => this.onResponse(headers));
    stream.on("trailers", (trailers: IncomingHttpHeaders) => this.onStatus(trailers));
    stream.on("error", () => {
      // Reported through 'close' below, with the stream's reset code.
    });
    stream.on("close", () => {
      if (this.finished) return;
      const rst = stream.rstCode;
      if (rst === constants.NGHTTP2_REFUSED_STREAM) this.finish(new MicroError(ID, 503, `${target} refused the stream (too many open streams or going away); nothing was processed`));
      else if (rst !== undefined && rst !== constants.NGHTTP2_NO_ERROR) this.finish(new MicroError(ID, 503, `${target} reset the stream (HTTP/2 code ${rst}) or the connection was lost`));
      else this.finish(new MicroError(ID, 500, `${target} ended the gRPC call without a grpc-status`));
    });
    if (deadline !== undefined) {
      const ms = deadline - Date.now();
      const expire = () => this.abort(new MicroError(ID, 408, `deadline exceeded calling ${target}`));
      if (ms <= 0) queueMicrotask(expire);
      else if (ms < MAX_TIMER) this.timer = setTimeout(expire, ms);
    }
  }

  private readonly sendAfterEnd = (): MicroError => this.error ?? new MicroError(ID, 400, "send after the stream ended");

  private onResponse(headers: IncomingHttpHeaders): void {
    const status = Number(headers[":status"]);
    if (status !== 200) {
      this.abort(httpError(status, this.target));
      return;
    }
    const ct = headers["content-type"];
    if (typeof ct !== "string" || !ct.startsWith("application/grpc")) {
      this.abort(new MicroError(ID, 502, `${this.target} answered with content-type ${String(ct)}, not gRPC`));
      return;
    }
    this.metadata = headersToMetadata(headers);
    // Trailers-only: the status is in the response headers.
    if (headers["grpc-status"] !== undefined) this.onStatus(headers);
  }

  private onStatus(trailers: IncomingHttpHeaders): void {
    if (this.finished) return;
    const raw = trailers["grpc-status"];
    const status = raw === undefined ? NaN : Number(raw);
    const metadata = headersToMetadata(trailers, this.metadata === EMPTY ? {} : this.metadata);
    if (status === 0) {
      if (this.receiver?.partial) return this.finish(new MicroError(ID, 500, `${this.target} ended the call in the middle of a message`), metadata);
      return this.finish(undefined, metadata);
    }
    if (Number.isNaN(status)) return this.finish(new MicroError(ID, 500, `${this.target} sent trailers without a grpc-status`), metadata);
    const message = decodeGrpcMessage(String(trailers["grpc-message"] ?? ""));
    const micro = trailers["micro-error"];
    this.finish(errorFromStatus(status, message, micro === undefined ? undefined : decodeGrpcMessage(String(micro))), metadata);
  }

  /** End the call from this side with `error`, resetting the stream with RST_STREAM(CANCEL). */
  private abort(error: MicroError): void {
    if (this.finished) return;
    this.finish(error);
    const s = this.stream;
    if (s === undefined || s.destroyed || s.closed) return;
    // close(CANCEL) would first half-close (an empty DATA with END_STREAM), which a server may read as "no
    // more requests" and answer before the reset arrives; destroying with node's AbortError sends only the RST.
    if (abortError !== undefined) s.destroy(abortError);
    else s.close(constants.NGHTTP2_CANCEL);
  }

  private finish(error: MicroError | undefined, metadata: Metadata = this.metadata): void {
    if (this.finished) return;
    this.finished = true;
    this.error = error;
    clearTimeout(this.timer);
    this.receiver?.inbox.end(error);
    this.writer?.fail(this.sendAfterEnd);
    this.resolveTrailer(error === undefined ? { metadata } : { error, metadata });
    this.onDone();
  }

  send(message: Uint8Array): Promise<void> {
    if (this.finished) return Promise.reject(this.error ?? new MicroError(ID, 400, "send after the stream ended"));
    if (this.sendClosed) return Promise.reject(new MicroError(ID, 400, "send after closeSend"));
    return this.writer!.send(message);
  }

  closeSend(): void {
    if (this.sendClosed || this.finished) return;
    this.sendClosed = true;
    this.writer!.end();
  }

  cancel(reason?: string): void {
    this.abort(new MicroError(ID, 499, `call to ${this.target} cancelled${reason ? `: ${reason}` : ""}`));
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const inbox = this.receiver?.inbox;
    return {
      next: () => (inbox === undefined ? Promise.reject(this.error) : inbox.next()),
      return: () => {
        if (!this.finished) this.cancel("the client stopped reading");
        return Promise.resolve(DONE);
      },
    };
  }
}

/** A non-200 HTTP status instead of a gRPC response, mapped as the gRPC spec's HTTP→status table says. */
function httpError(status: number, target: string): MicroError {
  const code = status === 400 ? 500 : status === 401 ? 401 : status === 403 ? 403 : status === 404 ? 501 : status === 429 || status === 502 || status === 503 || status === 504 ? 503 : 500;
  return new MicroError(ID, code, `${target} answered HTTP ${status}, not a gRPC response`);
}
