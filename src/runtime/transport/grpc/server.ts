/**
 * The grpc listener: an HTTP/2 server (h2c, or TLS with ALPN `h2`) that turns each gRPC request into a
 * {@link ServerStream} for the handler, answers what is not gRPC (415) or not a gRPC path (UNIMPLEMENTED)
 * itself, pings idle connections, and drains with GOAWAY on close. A misbehaving peer (bad preface, random
 * bytes, floods of streams) costs only its own connection or stream.
 */
import { constants, createSecureServer, createServer, type Http2Server, type Http2Session, type Http2SecureServer, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";
import { MicroError } from "../../errors/index.js";
import type { Logger } from "../../logger/index.js";
import type { Listener, RequestHeader, StreamHandler } from "../index.js";
import { dialableHost, formatAddress } from "../address.js";
import { serverTlsOptions } from "../tls.js";
import { headersToMetadata, microContentType, parsePath } from "./headers.js";
import { ID, type ResolvedOptions } from "./options.js";
import { GrpcServerStream, statusTrailers } from "./server-stream.js";
import { parseGrpcTimeout } from "./timeout.js";
import { startKeepalive } from "./keepalive.js";

/** The HTTP/2 server of a listener, with the settings gRPC wants. */
export function createHttp2Server(opts: ResolvedOptions): Http2Server | Http2SecureServer {
  const common = {
    settings: { maxConcurrentStreams: opts.maxConcurrentStreams, initialWindowSize: opts.initialWindow, maxHeaderListSize: opts.maxHeaderSize, enablePush: false },
    maxSessionRejectedStreams: 1000,
    maxSessionInvalidFrames: 100,
  };
  if (opts.tls === undefined) return createServer(common);
  return createSecureServer({ ...common, ...serverTlsOptions(opts.tls), ALPNProtocols: ["h2"], allowHTTP1: false });
}

export class GrpcListener implements Listener {
  readonly address: string;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly streams = new Set<GrpcServerStream>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly server: Http2Server | Http2SecureServer,
    host: string,
    port: number,
    private readonly opts: ResolvedOptions,
    private readonly handler: StreamHandler,
    private readonly maxMessageSize: number,
    private readonly log: Logger,
  ) {
    this.address = formatAddress(dialableHost(host), port);
    server.on("session", (session: ServerHttp2Session) => this.onSession(session));
    server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.onStream(stream, headers));
    // A peer that is not HTTP/2 (bad preface, random bytes, HTTP/1) or fails TLS: its connection closes, nothing else.
    server.on("sessionError", (err: Error) => log.debug({ err }, "grpc connection failed"));
    server.on("tlsClientError", (err: Error) => log.debug({ err }, "grpc TLS handshake failed"));
    server.on("unknownProtocol", (socket: { destroy(): void }) => socket.destroy());
  }

  private onSession(session: ServerHttp2Session): void {
    if (this.closing) {
      session.goaway(constants.NGHTTP2_NO_ERROR);
      session.destroy();
      return;
    }
    this.sessions.add(session);
    // Large messages flow without waiting on the connection window (each stream still has its own).
    try {
      session.setLocalWindowSize(this.opts.initialWindow * 16);
    } catch (err) {
      this.log.debug({ err }, "cannot widen the connection window");
    }
    const stop = startKeepalive(session, this.opts, this.log);
    session.on("error", (err: Error) => this.log.debug({ err }, "grpc connection error"));
    session.on("close", () => {
      stop();
      this.sessions.delete(session);
    });
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on("error", (err) => this.log.debug({ err }, "grpc stream error"));
    const contentType = headers["content-type"];
    const micro = microContentType(contentType);
    if (headers[":method"] !== "POST" || micro === undefined) {
      stream.respond({ ":status": 415, "content-type": "text/plain; charset=utf-8" });
      stream.end(`this is a gRPC server: POST application/grpc requests only (got ${headers[":method"]} ${String(contentType)})\n`);
      return;
    }
    const reject = (error: MicroError, status?: number) => {
      const trailers = statusTrailers(error, undefined, this.log);
      if (status !== undefined) trailers["grpc-status"] = String(status);
      stream.respond({ ":status": 200, "content-type": String(contentType), ...trailers }, { endStream: true });
      if (!stream.readableEnded) setImmediate(() => stream.destroyed || stream.close(constants.NGHTTP2_NO_ERROR));
    };
    const path = headers[":path"] ?? "";
    const parts = parsePath(path);
    if (parts === undefined) return reject(new MicroError(ID, 501, `${JSON.stringify(path)} is not a gRPC method path (/<package>.<Service>/<Method>)`));
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity" && encoding !== "gzip") {
      return reject(new MicroError(ID, 501, `grpc-encoding ${JSON.stringify(encoding)} is not supported (identity, gzip)`));
    }
    let deadline: number | undefined;
    const timeout = headers["grpc-timeout"];
    if (timeout !== undefined) {
      const ms = parseGrpcTimeout(String(timeout));
      if (ms === undefined) return reject(new MicroError(ID, 400, `malformed grpc-timeout ${JSON.stringify(timeout)}`));
      deadline = Date.now() + ms;
    }
    if (this.closing) return reject(new MicroError(ID, 503, "the server is shutting down"));
    const header: RequestHeader = {
      service: parts.pkg,
      endpoint: parts.endpoint,
      path,
      contentType: micro,
      metadata: headersToMetadata(headers),
      ...(deadline !== undefined ? { deadline } : {}),
      // gRPC does not say the method's kind on the wire; the server's handler knows it.
      kind: "bidi_streaming",
    };
    const session = stream.session as Http2Session | undefined;
    const socket = session?.socket;
    const remote = socket?.remoteAddress !== undefined ? formatAddress(socket.remoteAddress, socket.remotePort ?? 0) : "unknown";
    const s = new GrpcServerStream(stream, header, remote, String(contentType), encoding === "gzip", this.maxMessageSize, this.log, (done) => this.streams.delete(done));
    this.streams.add(s);
    try {
      this.handler(s);
    } catch (error) {
      this.log.error({ err: error, path }, "stream handler threw");
      s.close(new MicroError(ID, 500, "the server failed to start the call"));
    }
  }

  close(drainMs: number = this.opts.drainTimeout): Promise<void> {
    this.closing ??= this.drain(drainMs);
    return this.closing;
  }

  private async drain(drainMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // GOAWAY: clients start no new streams here; the open ones finish.
    for (const session of this.sessions) session.close();
    const deadline = Date.now() + drainMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, deadline - Date.now()))));
    if (this.sessions.size > 0) {
      const e = new MicroError(ID, 503, "the server shut down before the call finished");
      for (const s of this.streams) {
        s.abort(e);
        s.close(e);
      }
      for (const session of this.sessions) session.destroy();
    }
    await closed;
  }
}
