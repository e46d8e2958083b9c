/**
 * The client end of a tcp connection: opens streams (strictly increasing ids from 1), honours
 * the server's stream limit by queueing, fails streams at their deadline, and follows GOAWAY.
 */
import type { Socket } from "node:net";
import type { Logger } from "../../logger/index.js";
import { MicroError } from "../../errors/index.js";
import type { Metadata } from "../../metadata/index.js";
import type { ClientStream, Connection, RequestHeader, StreamTrailer } from "../index.js";
import {
  END_STREAM,
  FrameType,
  GoAwayCode,
  MAX_STREAM_ID,
  PROTOCOL_VERSION,
  ProtocolError,
  clampTimeout,
  decodeGoAway,
  decodeTrailer,
  encodePreface,
  headerSize,
  writeHeader,
  type Settings,
} from "./frame.js";
import { ID, type ResolvedOptions } from "./options.js";
import { Session, connectionError } from "./session.js";
import { StreamEnd } from "./stream.js";

const NO_METADATA: Metadata = Object.freeze({}) as Metadata;

export class ClientSession extends Session implements Connection {
  private nextId = 1;
  private goingAway = false;
  private readonly pendingOpen: TcpClientStream[] = [];
  private readonly closeListeners: Array<(error?: Error) => void> = [];
  private readyResolve: (() => void) | undefined;
  private readyReject: ((e: MicroError) => void) | undefined;
  /** Resolves when the server's preface and SETTINGS arrived. */
  readonly ready: Promise<void>;

  constructor(
    socket: Socket,
    opts: ResolvedOptions,
    log: Logger,
    readonly address: string,
    local: Settings,
  ) {
    super(socket, opts, log, address, true, local);
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => {});
    socket.write(encodePreface());
    this.prefaceSent = true;
    this.sendSettings();
    this.writer.flush();
  }

  get closed(): boolean {
    return this.isClosed || this.goingAway;
  }

  override get activeStreams(): number {
    return this.streams.size + this.pendingOpen.length;
  }

  protected override onPreface(version: number): void {
    if (version !== PROTOCOL_VERSION) throw new ProtocolError(GoAwayCode.UNSUPPORTED_VERSION, `server answered with protocol version ${version}, this client speaks ${PROTOCOL_VERSION}`);
  }

  protected onSettings(): void {
    this.startKeepalive();
    if (this.activeStreams === 0) this.idle(true);
    this.readyResolve?.();
    this.readyResolve = this.readyReject = undefined;
  }

  /**
   * An idle connection does not keep the process alive (a command-line client that forgot to close its
   * pool still exits); a connection with open streams does.
   */
  private idle(yes: boolean): void {
    if (yes === this.unrefd) return;
    this.unrefd = yes;
    if (yes) this.socket.unref();
    else this.socket.ref();
  }
  private unrefd = false;

  openStream(header: RequestHeader): ClientStream {
    const s = new TcpClientStream(this, header);
    if (this.unrefd && !this.isClosed) this.idle(false);
    if (this.isClosed) {
      s.finish(this.error ?? connectionError(this.address, "connection is closed"));
      return s;
    }
    if (this.goingAway) {
      s.finish(connectionError(this.address, "server is shutting down (GOAWAY); open the stream on another connection"));
      return s;
    }
    if (header.deadline !== undefined) {
      const remaining = header.deadline - Date.now();
      if (!(remaining > 0)) {
        s.finish(deadlineError(header, 0));
        return s;
      }
      s.armDeadline(remaining);
    }
    if (this.streams.size < this.peer!.maxConcurrentStreams) this.start(s);
    else this.pendingOpen.push(s);
    return s;
  }

  private start(s: TcpClientStream): void {
    if (this.nextId > MAX_STREAM_ID) {
      // Ids exhausted: this connection takes no more streams; the pool dials a new one.
      this.goingAway = true;
      s.finish(connectionError(this.address, "stream ids exhausted on this connection"));
      return;
    }
    const h = s.header;
    let timeout: number | undefined;
    if (h.deadline !== undefined) {
      timeout = clampTimeout(h.deadline - Date.now());
      if (timeout <= 0) {
        s.finish(deadlineError(h, 0));
        return;
      }
    }
    const size = headerSize(h, timeout);
    if (size > this.peer!.maxHeaderSize) {
      s.finish(new MicroError(ID, 400, `request header of ${size} bytes exceeds the server's limit of ${this.peer!.maxHeaderSize} bytes (too much metadata?)`));
      return;
    }
    s.id = this.nextId;
    this.nextId += 1;
    s.sendWindow = this.peer!.initialWindow;
    s.isStarted = true;
    this.streams.set(s.id, s);
    const flags = s.sendClosed && !s.hasQueued() ? END_STREAM : 0;
    const p = this.writer.begin(FrameType.HEADERS, flags, s.id, size);
    writeHeader(this.writer.slab, p, h, timeout);
    if (flags === 0) s.pump();
    else s.endedWithHeaders();
  }

  /** A stream ended: free its slot, start a waiting one, finish draining. */
  streamDone(s: TcpClientStream): void {
    if (s.isStarted) {
      this.streams.delete(s.id);
    } else {
      const i = this.pendingOpen.indexOf(s);
      if (i >= 0) this.pendingOpen.splice(i, 1);
    }
    while (this.pendingOpen.length > 0 && !this.isClosed && !this.goingAway && this.streams.size < this.peer!.maxConcurrentStreams) {
      this.start(this.pendingOpen.shift()!);
    }
    if (this.goingAway && this.streams.size === 0 && !this.isClosed) this.destroy(undefined, "none", true);
    else if (this.activeStreams === 0 && !this.isClosed) this.idle(true);
  }

  /** CANCEL: a cause byte (0 cancelled, 1 deadline exceeded), then the reason in UTF-8. */
  sendCancel(id: number, reason: string, deadline = false): void {
    const text = Buffer.from(reason, "utf8").subarray(0, 1023);
    const p = this.writer.begin(FrameType.CANCEL, 0, id, 1 + text.length);
    this.writer.slab[p] = deadline ? 1 : 0;
    text.copy(this.writer.slab, p + 1);
  }

  protected onStreamFrame(type: number, _flags: number, id: number, payload: Buffer): void {
    switch (type) {
      case FrameType.TRAILER: {
        const s = this.streams.get(id) as TcpClientStream | undefined;
        if (!s) return this.onUnknownStream(type, id);
        const t = decodeTrailer(payload);
        s.finish(t.error, t.metadata);
        return;
      }
      case FrameType.GOAWAY: {
        const g = decodeGoAway(payload);
        this.goingAway = true;
        if (g.code !== GoAwayCode.NO_ERROR) {
          this.log.warn({ peer: this.address, code: g.code }, `server closed the connection: ${g.reason}`);
          return;
        }
        this.log.debug({ peer: this.address }, `server is draining: ${g.reason}`);
        const waiting = this.pendingOpen.splice(0);
        for (const s of waiting) s.finish(connectionError(this.address, `server is shutting down (GOAWAY: ${g.reason})`));
        if (this.streams.size === 0) this.destroy(undefined, "none", true);
        return;
      }
      default:
        throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `frame type ${type} is not valid from a server`);
    }
  }

  protected onUnknownStream(type: number, id: number): void {
    // Frames for streams we already ended (cancel, deadline) are expected; never-opened ids are not.
    if (id === 0 || id >= this.nextId) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `frame type ${type} for stream ${id}, which was never opened`);
  }

  protected onClosed(error: MicroError | undefined): void {
    const err = error ?? connectionError(this.address, "connection closed");
    this.readyReject?.(err);
    this.readyResolve = this.readyReject = undefined;
    for (const s of this.pendingOpen.splice(0)) s.finish(err);
    const listeners = this.closeListeners.splice(0);
    for (const l of listeners) {
      try {
        l(error);
      } catch (e) {
        this.log.error({ err: e }, "connection onClose listener threw");
      }
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.shutdown(GoAwayCode.NO_ERROR, "client closed the connection", connectionError(this.address, "connection closed by the client"));
  }

  onClose(listener: (error?: Error) => void): void {
    if (this.isClosed) {
      const e = this.error;
      queueMicrotask(() => listener(e));
      return;
    }
    this.closeListeners.push(listener);
  }
}

function deadlineError(h: RequestHeader, _ms: number): MicroError {
  return MicroError.timeout(ID, `deadline exceeded calling ${h.service} ${h.endpoint}`);
}

export class TcpClientStream extends StreamEnd implements ClientStream {
  isStarted = false;
  private result: StreamTrailer | undefined;
  private trailerPromise: Promise<StreamTrailer> | undefined;
  private trailerResolve: ((t: StreamTrailer) => void) | undefined;

  constructor(
    private readonly conn: ClientSession,
    readonly header: RequestHeader,
  ) {
    super(conn);
  }

  /** Created on first use: most unary callers never look at it. */
  get trailer(): Promise<StreamTrailer> {
    if (!this.trailerPromise) {
      this.trailerPromise = this.result ? Promise.resolve(this.result) : new Promise((resolve) => (this.trailerResolve = resolve));
    }
    return this.trailerPromise;
  }

  endedWithHeaders(): void {
    this.endSentWithHeaders();
  }

  hasQueued(): boolean {
    return this.queueLength > 0;
  }

  protected override started(): boolean {
    return this.isStarted;
  }

  protected onDeadline(ms: number): void {
    if (this.isStarted) this.conn.sendCancel(this.id, "deadline exceeded", true);
    this.finish(deadlineError(this.header, ms));
  }

  send(message: Uint8Array): Promise<void> {
    return this.doSend(message);
  }

  /**
   * The server never gets a request that is not whole: the stream is cancelled (CANCEL, so no half-close
   * follows that would read as "no more messages") and ends with the 413, which the call's reader reports.
   */
  protected refuseOversized(size: number, max: number): Promise<never> {
    const error = new MicroError(
      ID,
      413,
      `request message of ${size} bytes exceeds the server's limit of ${max} bytes; send less per message (a client stream can carry it in parts) or raise the server's maxMessageSize`,
    );
    if (!this.finished) {
      if (this.isStarted) this.conn.sendCancel(this.id, error.detail);
      this.finish(error);
    }
    return Promise.reject(error);
  }

  closeSend(): void {
    this.doCloseSend();
  }

  cancel(reason?: string): void {
    if (this.finished) return;
    if (this.isStarted) this.conn.sendCancel(this.id, reason ?? "");
    this.finish(new MicroError(ID, 499, reason ? `call cancelled: ${reason}` : "call cancelled"));
  }

  /** Leaving the response loop early cancels the call. */
  protected override stoppedReading(): void {
    if (!this.finished) this.cancel("the caller stopped reading the response");
  }

  protected onRemoteEnd(): void {
    // The server ends streams with TRAILER; a half-close before it just means no more messages.
  }

  /** The stream is over: deliver the outcome once. */
  finish(error: MicroError | undefined, metadata: Metadata = NO_METADATA): void {
    if (this.finished) return;
    this.finished = true;
    this.disarmDeadline();
    this.inbox.end(error);
    this.finishSend(error);
    const result: StreamTrailer = error ? { error, metadata } : { metadata };
    this.result = result;
    if (this.trailerResolve) this.trailerResolve(result);
    this.conn.streamDone(this);
  }

  onConnectionError(error: MicroError): void {
    this.finish(error);
  }
}
