/**
 * The server end: accepts connections, checks the preface and SETTINGS, opens a {@link ServerStream} per
 * HEADERS frame and hands it to the handler, enforces deadlines and limits, and drains on close.
 */
import type { Server, Socket } from "node:net";
import type { Logger } from "../../logger/index.js";
import { MicroError, fromError } from "../../errors/index.js";
import type { Metadata } from "../../metadata/index.js";
import type { Listener, RequestHeader, ServerStream, StreamHandler } from "../index.js";
import {
  END_STREAM,
  FrameType,
  GoAwayCode,
  MAX_STREAM_ID,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeHeader,
  encodeFrame,
  encodeGoAway,
  encodePreface,
  trailerSize,
  writeTrailer,
  type Settings,
} from "./frame.js";
import { dialableHost, formatAddress, type HostPort } from "../address.js";
import { MAX_TIMER } from "./limits.js";
import { ID, type ResolvedOptions } from "./options.js";
import { Session, connectionError } from "./session.js";
import { StreamEnd } from "./stream.js";

/**
 * Refuse a connection before the handshake (a plaintext connection to a TLS listener, a client certificate
 * that is missing or not trusted): our preface, then GOAWAY instead of SETTINGS with the reason (the micro
 * client reports it), then close.
 */
export function refuseConnection(socket: Socket, reason: string): void {
  // Read (and drop) whatever comes, so that the peer's close is seen and the socket does not linger.
  socket.on("error", () => socket.destroy()); // a peer resetting a refused connection is expected: nothing to report
  socket.resume();
  socket.end(Buffer.concat([encodePreface(), encodeFrame(FrameType.GOAWAY, 0, 0, encodeGoAway(0, GoAwayCode.PROTOCOL_ERROR, reason))]));
  // A peer that never reads must not keep the socket half-open.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** The payload of the PING that follows an idle GOAWAY (keepalive PINGs carry a timestamp instead). */
const IDLE_PING = Buffer.from("idle\0\0\0\0");

export class ServerSession extends Session {
  private lastId = 0;
  goingAway = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  /** Idle close: since when no stream is open (ms), the timer watching it, and the phases of the close. */
  private idleSince = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  /** GOAWAY (idle) and a PING were sent: streams that crossed them are still served. */
  private idleClosing = false;
  /** The PING behind the idle GOAWAY was answered: every HEADERS the client sent before it has arrived. */
  private idleAcked = false;

  constructor(
    socket: Socket,
    opts: ResolvedOptions,
    log: Logger,
    remote: string,
    local: Settings,
    private readonly handler: StreamHandler,
    private readonly owner: TcpListener,
  ) {
    super(socket, opts, log, remote, true, local);
    this.handshakeTimer = setTimeout(() => {
      this.log.warn({ peer: remote }, `closing connection: no preface and SETTINGS within ${opts.handshakeTimeout}ms`);
      this.shutdown(GoAwayCode.PROTOCOL_ERROR, "handshake timeout", undefined);
    }, opts.handshakeTimeout);
    this.handshakeTimer.unref();
  }

  protected override onPreface(version: number): void {
    // Answer with the highest version we speak that is not above the client's.
    this.socket.write(encodePreface(Math.min(version, PROTOCOL_VERSION)));
    this.prefaceSent = true;
    if (version < 1) throw new ProtocolError(GoAwayCode.UNSUPPORTED_VERSION, `client speaks protocol version ${version}; this server speaks 1 to ${PROTOCOL_VERSION}`);
    this.sendSettings();
  }

  /**
   * A peer whose first bytes are not a micro preface still gets our preface and a GOAWAY saying why, so that
   * a TLS client dialling this plaintext listener fails at once on bytes that are not TLS (its error then
   * says the node answered in plaintext) instead of on a reset.
   */
  protected override fail(e: unknown): void {
    if (!this.prefaceSent && !this.isClosed && e instanceof ProtocolError) {
      this.socket.write(encodePreface());
      this.prefaceSent = true;
    }
    super.fail(e);
  }

  protected onSettings(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.startKeepalive();
    if (this.goingAway) this.sendGoAway();
    else this.armIdle(this.opts.idleTimeout);
  }

  private armIdle(ms: number): void {
    if (this.idleTimer || this.isClosed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.isClosed || this.goingAway || this.idleClosing || this.streams.size > 0) return;
      const left = this.idleSince + this.opts.idleTimeout - Date.now();
      if (left > 0) this.armIdle(left);
      else this.closeIdle();
    }, ms);
    this.idleTimer.unref();
  }

  /**
   * No stream for idleTimeout: GOAWAY NO_ERROR, then a PING. The client opens nothing new here once it reads the
   * GOAWAY; a HEADERS it sent before that crossed it and is served as usual. The PING's answer comes after every
   * such HEADERS (one ordered byte stream), so once it is in and no stream is open, nothing can be lost by closing.
   */
  private closeIdle(): void {
    this.log.debug({ peer: this.remote }, `closing connection: no stream for ${this.opts.idleTimeout}ms`);
    this.idleClosing = true;
    this.writer.frame(FrameType.GOAWAY, 0, 0, encodeGoAway(this.lastId, GoAwayCode.NO_ERROR, "idle connection"));
    this.writer.frame(FrameType.PING, 0, 0, IDLE_PING);
    this.writer.flush();
    // A client that never answers is left to the keepalive timeout; this bounds it the same way.
    this.idleTimer = setTimeout(() => {
      if (!this.idleAcked) this.destroy(undefined, "none", true);
    }, this.opts.keepaliveTimeout);
    this.idleTimer.unref();
  }

  protected override onPingAck(payload: Buffer): void {
    if (!this.idleClosing || !payload.equals(IDLE_PING)) return;
    this.idleAcked = true;
    if (this.streams.size === 0) this.destroy(undefined, "none", true);
  }

  protected onStreamFrame(type: number, flags: number, id: number, payload: Buffer): void {
    switch (type) {
      case FrameType.HEADERS:
        return this.onHeaders(flags, id, payload);
      case FrameType.CANCEL: {
        const s = this.streams.get(id) as TcpServerStream | undefined;
        if (!s) return this.onUnknownStream(type, id);
        s.onCancel(payload.length > 0 && payload[0] === 1, payload.toString("utf8", 1));
        return;
      }
      case FrameType.GOAWAY:
        this.log.debug({ peer: this.remote }, "client is closing the connection");
        return;
      default:
        throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `frame type ${type} is not valid from a client`);
    }
  }

  private onHeaders(flags: number, id: number, payload: Buffer): void {
    if (id === 0 || id <= this.lastId) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `stream id ${id} reused or not increasing (last was ${this.lastId})`);
    if (id > MAX_STREAM_ID) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `stream id ${id} out of range`);
    this.lastId = id;
    const h = decodeHeader(payload);
    if (this.goingAway) {
      // Raced our GOAWAY: refuse with a retryable error so the client tries elsewhere.
      this.writeTrailer(id, connectionError(this.owner.address, "server is shutting down"), undefined);
      return;
    }
    if (this.streams.size >= this.local.maxConcurrentStreams) {
      throw new ProtocolError(GoAwayCode.TOO_MANY_STREAMS, `more than ${this.local.maxConcurrentStreams} concurrent streams`);
    }
    const header: RequestHeader =
      h.timeout === undefined
        ? { service: h.service, endpoint: h.endpoint, contentType: h.contentType, metadata: h.metadata, kind: h.kind }
        : { service: h.service, endpoint: h.endpoint, contentType: h.contentType, metadata: h.metadata, kind: h.kind, deadline: Date.now() + h.timeout };
    const s = new TcpServerStream(this, id, header);
    this.streams.set(id, s);
    if (flags & END_STREAM) {
      s.remoteClosed = true;
      s.inbox.end();
    }
    if (h.timeout !== undefined) s.armDeadline(h.timeout);
    try {
      this.handler(s);
    } catch (e) {
      this.log.error({ err: e, endpoint: h.endpoint }, "stream handler threw");
      s.close(fromError(e, "micro.server"));
    }
  }

  protected onUnknownStream(type: number, id: number): void {
    if (id === 0 || id > this.lastId) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `frame type ${type} for stream ${id}, which was never opened`);
  }

  /** Encode a TRAILER; an oversized one is replaced by a short error so the peer can still parse it. */
  writeTrailer(id: number, error: MicroError | undefined, metadata: Metadata | undefined): void {
    let size = trailerSize(error, metadata);
    const max = this.peer?.maxHeaderSize ?? this.local.maxHeaderSize;
    if (size > max) {
      this.log.warn({ peer: this.remote, size, max }, "response trailer too large for the client; sending an error instead");
      error = new MicroError(error?.id ?? ID, 500, `response trailer of ${size} bytes exceeds the client's limit of ${max} bytes`);
      metadata = undefined;
      size = trailerSize(error, metadata);
    }
    const p = this.writer.begin(FrameType.TRAILER, 0, id, size);
    writeTrailer(this.writer.slab, p, error, metadata);
  }

  streamDone(s: TcpServerStream): void {
    this.streams.delete(s.id);
    if (this.streams.size > 0) return;
    if (this.goingAway || this.idleAcked) this.destroy(undefined, "none", true);
    else if (!this.idleClosing) {
      this.idleSince = Date.now();
      this.armIdle(this.opts.idleTimeout);
    }
  }

  /** Drain: tell the client to open no more streams here; close once the open ones end. */
  goAway(): void {
    if (this.goingAway || this.isClosed) return;
    this.goingAway = true;
    if (this.peer) this.sendGoAway();
    if (this.streams.size === 0) this.destroy(undefined, "none", true);
  }

  private sendGoAway(): void {
    this.writer.frame(FrameType.GOAWAY, 0, 0, encodeGoAway(this.lastId, GoAwayCode.NO_ERROR, "server is shutting down"));
    this.writer.flush();
  }

  protected onClosed(_error: MicroError | undefined): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.owner.sessionClosed(this);
  }
}

export class TcpServerStream extends StreamEnd implements ServerStream {
  private controller: AbortController | undefined;
  private abortReason: MicroError | undefined;

  constructor(
    private readonly conn: ServerSession,
    id: number,
    readonly header: RequestHeader,
  ) {
    super(conn);
    this.id = id;
    this.sendWindow = conn.peer!.initialWindow;
  }

  get remoteAddress(): string {
    return this.conn.remote;
  }

  /** Created on first use: handlers that never look at it cost no AbortController. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  protected onDeadline(ms: number): void {
    const err = MicroError.timeout(ID, `deadline exceeded after ${ms}ms in ${this.header.service} ${this.header.endpoint}`);
    this.abort(err);
    this.conn.writeTrailer(this.id, err, undefined);
    this.end(err);
  }

  private abort(reason: MicroError): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  send(message: Uint8Array): Promise<void> {
    return this.doSend(message);
  }

  /** The handler's runtime decides how the stream ends (the router ends it with this 413). */
  protected refuseOversized(size: number, max: number): Promise<never> {
    return Promise.reject(
      new MicroError(
        ID,
        413,
        `response message of ${size} bytes exceeds the client's limit of ${max} bytes; return less per message (a server stream can carry it in parts) or raise the client's maxMessageSize`,
      ),
    );
  }

  close(error?: MicroError, metadata?: Metadata): void {
    if (this.finished || this.sendClosed) return;
    this.sendClosed = true;
    const err = error === undefined ? undefined : error instanceof MicroError ? error : fromError(error, "micro.server");
    const write = () => {
      if (this.finished) return;
      this.conn.writeTrailer(this.id, err, metadata);
      this.end(undefined);
    };
    if (this.queueLength > 0) this.afterQueue = write;
    else write();
  }

  onCancel(deadline: boolean, reason: string): void {
    if (this.finished) return;
    const err = deadline
      ? MicroError.timeout(ID, `deadline exceeded in ${this.header.service} ${this.header.endpoint} (client gave up)`)
      : new MicroError(ID, 499, reason ? `call cancelled by the client: ${reason}` : "call cancelled by the client");
    this.abort(err);
    this.end(err);
  }

  protected onRemoteEnd(): void {
    this.inbox.end();
  }

  /** Over for this side; `error` is what the handler's pending reads and sends see. */
  private end(error: MicroError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.sendClosed = true;
    this.disarmDeadline();
    this.inbox.end(error);
    this.finishSend(error);
    this.conn.streamDone(this);
  }

  onConnectionError(error: MicroError): void {
    if (this.finished) return;
    this.abort(error);
    this.end(error);
  }
}

export class TcpListener implements Listener {
  readonly address: string;
  private readonly sessions = new Set<ServerSession>();
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly server: Server,
    bound: HostPort,
    private readonly opts: ResolvedOptions,
    private readonly log: Logger,
  ) {
    this.address = formatAddress(dialableHost(bound.host), bound.port);
  }

  accept(socket: Socket, handler: StreamHandler, local: Settings): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const remote = formatAddress(socket.remoteAddress ?? "?", socket.remotePort ?? 0);
    const s = new ServerSession(socket, this.opts, this.log, remote, local, handler, this);
    this.sessions.add(s);
  }

  sessionClosed(s: ServerSession): void {
    this.sessions.delete(s);
    if (this.sessions.size === 0) this.drained?.();
  }

  /** Connections open right now (tests and diagnostics). */
  get connections(): number {
    return this.sessions.size;
  }

  close(drainMs: number = this.opts.drainTimeout): Promise<void> {
    this.closing ??= this.doClose(drainMs);
    return this.closing;
  }

  private async doClose(drainMs: number): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of [...this.sessions]) s.goAway();
    if (this.sessions.size > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(MAX_TIMER, Math.max(0, drainMs)));
        this.drained = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const left = [...this.sessions];
    if (left.length > 0) this.log.info({ address: this.address, connections: left.length }, `drain time of ${drainMs}ms over; closing connections with open streams`);
    for (const s of left) s.destroy(connectionError(this.address, "server shut down before the call finished"), "none");
    await serverClosed;
  }
}
