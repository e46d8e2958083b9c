/**
 * The client's connection: one HTTP/2 session (h2c, or TLS with ALPN `h2`) that multiplexes every call's
 * stream, pings while open, and counts as closed once the server sends GOAWAY (open calls finish; the pool
 * dials a new connection for new ones).
 */
import { constants, type ClientHttp2Session, type OutgoingHttpHeaders } from "node:http2";
import { MicroError } from "../../errors/index.js";
import type { Logger } from "../../logger/index.js";
import type { ClientStream, Connection, RequestHeader } from "../index.js";
import { GrpcClientStream } from "./client-stream.js";
import { grpcContentType, grpcPath, metadataToHeaders } from "./headers.js";
import { startKeepalive } from "./keepalive.js";
import { ID, type ResolvedOptions } from "./options.js";
import { formatGrpcTimeout } from "./timeout.js";

const USER_AGENT = "micro-ts-grpc";

export class GrpcConnection implements Connection {
  private active = 0;
  private isClosed = false;
  private readonly listeners: ((error?: Error) => void)[] = [];
  private closeError: Error | undefined;
  private readonly onStreamDone = (): void => {
    this.active--;
  };

  constructor(
    private readonly session: ClientHttp2Session,
    readonly address: string,
    private readonly opts: ResolvedOptions,
    private readonly maxMessageSize: number,
    log: Logger,
  ) {
    const stop = startKeepalive(session, opts, log);
    session.on("error", (e: Error) => {
      this.closeError = e;
      log.debug({ err: e, address }, "grpc connection error");
    });
    session.on("goaway", () => this.markClosed());
    session.on("close", () => {
      stop();
      this.markClosed();
    });
  }

  private markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const error = this.closeError;
    for (const l of this.listeners.splice(0)) l(error);
  }

  get closed(): boolean {
    return this.isClosed;
  }
  get activeStreams(): number {
    return this.active;
  }

  openStream(header: RequestHeader): ClientStream {
    const target = `${this.address}${header.path ?? ""}`;
    this.active++;
    if (this.isClosed || this.session.destroyed) {
      return new GrpcClientStream(undefined, target, false, this.maxMessageSize, undefined, this.onStreamDone, new MicroError(ID, 503, `the connection to ${this.address} is closed`, undefined, this.closeError ? { cause: this.closeError } : undefined));
    }
    const path = header.path ?? grpcPath(header.service, header.endpoint);
    const gzip = this.opts.compression === "gzip";
    try {
      const h: OutgoingHttpHeaders = {
        ":method": "POST",
        ":path": path,
        "content-type": grpcContentType(header.contentType),
        te: "trailers",
        "user-agent": USER_AGENT,
        "grpc-accept-encoding": "identity,gzip",
      };
      if (gzip) h["grpc-encoding"] = "gzip";
      if (header.deadline !== undefined) h["grpc-timeout"] = formatGrpcTimeout(header.deadline - Date.now());
      metadataToHeaders(header.metadata, h as Record<string, string>);
      const stream = this.session.request(h, { endStream: false });
      return new GrpcClientStream(stream, `${this.address}${path}`, gzip, this.maxMessageSize, header.deadline, this.onStreamDone);
    } catch (e) {
      const error = e instanceof MicroError ? e : new MicroError(ID, 503, `cannot open a stream to ${this.address}: ${(e as Error).message}`, undefined, { cause: e });
      return new GrpcClientStream(undefined, target, false, this.maxMessageSize, undefined, this.onStreamDone, error);
    }
  }

  close(): void {
    if (!this.session.destroyed) this.session.close();
    // Calls still open end with a lost connection rather than keep the process alive.
    setImmediate(() => this.session.destroyed || this.session.destroy(undefined, constants.NGHTTP2_NO_ERROR));
    this.markClosed();
  }

  onClose(listener: (error?: Error) => void): void {
    if (this.isClosed) queueMicrotask(() => listener(this.closeError));
    else this.listeners.push(listener);
  }
}
