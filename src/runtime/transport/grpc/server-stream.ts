/**
 * The server's end of one gRPC call: request messages from the {@link Receiver}, responses framed onto the
 * HTTP/2 stream with its backpressure, and the end as trailers (`grpc-status`, `grpc-message`,
 * `grpc-status-details-bin`, `micro-error`, response metadata) — a trailers-only response when nothing was sent.
 */
import { constants, type ServerHttp2Stream } from "node:http2";
import { MicroError } from "../../errors/index.js";
import type { Logger } from "../../logger/index.js";
import type { Metadata } from "../../metadata/index.js";
import type { RequestHeader, ServerStream } from "../index.js";
import { FrameWriter } from "./writer.js";
import { metadataToHeaders } from "./headers.js";
import { ID } from "./options.js";
import { Receiver } from "./receiver.js";
import { GrpcStatus, encodeGrpcMessage, statusDetails, toGrpcStatus } from "./status.js";

const MAX_TIMER = 0x7fffffff;
/**
 * A client cancels at its own deadline, which is a little earlier than the server's (the server counts
 * grpc-timeout from when the request arrived): a CANCEL this close to the deadline is the deadline (408).
 */
const DEADLINE_SLACK = 1000;

/** The trailers of a call that ended with `error` (or OK) and `metadata`. */
export function statusTrailers(error: MicroError | undefined, metadata: Metadata | undefined, log: Logger): Record<string, string> {
  const out: Record<string, string> = {};
  if (metadata !== undefined) {
    try {
      metadataToHeaders(metadata, out);
    } catch (e) {
      log.warn({ err: e }, "response metadata cannot be sent over gRPC; the call ends with INTERNAL");
      return statusTrailers(e as MicroError, undefined, log);
    }
  }
  if (error === undefined) {
    out["grpc-status"] = "0";
    return out;
  }
  const status = toGrpcStatus(error.code);
  out["grpc-status"] = String(status);
  out["grpc-message"] = encodeGrpcMessage(error.detail);
  out["grpc-status-details-bin"] = statusDetails(status, error.detail);
  out["micro-error"] = encodeGrpcMessage(JSON.stringify(error.toJSON()));
  return out;
}

export class GrpcServerStream implements ServerStream {
  private readonly controller = new AbortController();
  private readonly receiver: Receiver;
  private headersSent = false;
  private ended = false;
  private endError: MicroError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly writer: FrameWriter;
  private pendingTrailers: Record<string, string> | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    readonly header: RequestHeader,
    readonly remoteAddress: string,
    private readonly responseType: string,
    /** The request was gzip: responses are gzip too. */
    private readonly gzip: boolean,
    maxMessageSize: number,
    private readonly log: Logger,
    private readonly onDone: (s: GrpcServerStream) => void,
  ) {
    this.writer = new FrameWriter(stream, gzip);
    this.receiver = new Receiver(stream, maxMessageSize, gzip, (error) => {
      // A request over the limit or malformed: the call ends here, the handler sees the abort.
      this.abort(error);
      this.close(error);
    });
    stream.on("end", () => {
      if (stream.aborted) return; // a reset, reported by 'close'
      if (this.receiver.partial) this.abort(new MicroError(ID, 400, "the client ended the stream in the middle of a gRPC message"));
      this.receiver.inbox.end();
    });
    stream.on("wantTrailers", () => {
      const t = this.pendingTrailers ?? { "grpc-status": String(GrpcStatus.OK) };
      this.stream.sendTrailers(t);
      this.endReadSide();
    });
    stream.on("error", (e) => this.log.debug({ err: e }, "grpc stream error"));
    stream.on("close", () => {
      if (!this.ended) {
        const rst = stream.rstCode;
        const deadline = this.header.deadline;
        this.abort(
          rst === constants.NGHTTP2_CANCEL && deadline !== undefined && Date.now() >= deadline - DEADLINE_SLACK
            ? new MicroError(ID, 408, "deadline exceeded: the client gave up at its deadline")
            : rst === constants.NGHTTP2_CANCEL
            ? new MicroError(ID, 499, "the client cancelled the call")
            : new MicroError(ID, 503, `the stream was reset or its connection lost (HTTP/2 code ${rst ?? "none"})`),
        );
        this.ended = true;
      }
      this.finish();
    });
    const deadline = header.deadline;
    if (deadline !== undefined) {
      const ms = deadline - Date.now();
      const expire = () => {
        const e = new MicroError(ID, 408, `deadline exceeded: the call's grpc-timeout passed on the server`);
        this.abort(e);
        this.close(e);
      };
      if (ms <= 0) queueMicrotask(expire);
      else if (ms < MAX_TIMER) this.timer = setTimeout(expire, ms);
    }
  }

  private readonly sendAfterEnd = (): MicroError => this.endError ?? new MicroError(ID, 400, "send after the stream ended");

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Fire the handler's signal (cancel, deadline, shutdown, a bad request message). */
  abort(reason: MicroError): void {
    this.endError ??= reason;
    this.receiver.inbox.end(reason);
    this.receiver.inbox.clear();
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const inbox = this.receiver.inbox;
    return { next: () => inbox.next() };
  }

  private respond(): void {
    this.headersSent = true;
    const h: Record<string, string | number> = { ":status": 200, "content-type": this.responseType, "grpc-accept-encoding": "identity,gzip" };
    if (this.gzip) h["grpc-encoding"] = "gzip";
    this.stream.respond(h, { waitForTrailers: true });
  }

  send(message: Uint8Array): Promise<void> {
    if (this.ended) return Promise.reject(this.sendAfterEnd());
    if (!this.headersSent) this.respond();
    return this.writer.send(message);
  }

  close(error?: MicroError, metadata?: Metadata): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    clearTimeout(this.timer);
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    const trailers = statusTrailers(error, metadata, this.log);
    try {
      if (!this.headersSent) {
        this.headersSent = true;
        s.respond({ ":status": 200, "content-type": this.responseType, "grpc-accept-encoding": "identity,gzip", ...trailers }, { endStream: true });
        this.endReadSide();
      } else {
        this.pendingTrailers = trailers;
        this.writer.end();
      }
    } catch (e) {
      this.log.debug({ err: e }, "grpc stream closed while ending");
      s.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    this.writer.fail(this.sendAfterEnd);
  }

  /** The client may still be sending (it never half-closed): once our end is out, RST_STREAM(NO_ERROR) ends its side too. */
  private endReadSide(): void {
    const s = this.stream;
    if (s.readableEnded) return;
    setImmediate(() => {
      if (!s.destroyed && !s.closed && !s.readableEnded) s.close(constants.NGHTTP2_NO_ERROR);
    });
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.writer.fail(this.sendAfterEnd);
    this.onDone(this);
  }
}
