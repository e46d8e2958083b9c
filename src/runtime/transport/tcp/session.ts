/**
 * What the client and the server end of a connection share: the socket, frame decoding and coalesced
 * writing, the SETTINGS exchange, keepalive, write backpressure and closing with a logged reason.
 */
import type { Socket } from "node:net";
import type { Logger } from "../../logger/index.js";
import { MicroError } from "../../errors/index.js";
import {
  ACK,
  FrameDecoder,
  FrameType,
  GoAwayCode,
  MAX_WINDOW,
  ProtocolError,
  decodeGoAway,
  decodeSettings,
  encodeGoAway,
  encodeSettings,
  type Settings,
} from "./frame.js";
import { WRITE_HIGH_WATER } from "./limits.js";
import { ID, type ResolvedOptions } from "./options.js";
import { FrameWriter } from "./writer.js";

/** The error every open stream fails with when its connection goes away: retryable (503). */
export function connectionError(address: string, reason: string, cause?: unknown): MicroError {
  return new MicroError(ID, 503, `connection to ${address}: ${reason}`, undefined, cause === undefined ? undefined : { cause });
}

/** A stream as the session sees it: frames are routed to it. */
export interface SessionStream {
  readonly id: number;
  onData(payload: Buffer, end: boolean): void;
  onWindow(increment: number): void;
  /** Writes became possible again after 'drain'. */
  onWritable(): void;
  /** The connection is gone. */
  onConnectionError(error: MicroError): void;
}

export abstract class Session {
  readonly socket: Socket;
  readonly writer: FrameWriter;
  readonly decoder: FrameDecoder;
  readonly local: Settings;
  /** The peer's SETTINGS (defaults until they arrive). */
  peer: Settings | undefined;
  readonly streams = new Map<number, SessionStream>();
  /** Senders must wait: the socket wants 'drain' or too much is queued. */
  blocked = false;
  isClosed = false;
  /** We sent our preface: the peer can parse a GOAWAY from us. */
  prefaceSent = false;
  protected lastRead = Date.now();
  private pingSentAt = 0;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private readonly pingPayload = Buffer.alloc(8);
  private closeError: MicroError | undefined;
  /** When the frame still arriving began to arrive (ms; 0: none), and the timer that watches it. */
  private partialSince = 0;
  private frameTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: Socket,
    readonly opts: ResolvedOptions,
    readonly log: Logger,
    /** The peer's address for messages (`host:port`). */
    readonly remote: string,
    expectPreface: boolean,
    local: Settings,
  ) {
    this.socket = socket;
    this.local = local;
    socket.setNoDelay(true);
    this.writer = new FrameWriter(socket, (blocked) => this.afterFlush(blocked));
    this.decoder = new FrameDecoder(local, (t, f, id, p) => this.onFrame(t, f, id, p), expectPreface ? (v) => this.onPreface(v) : undefined);
    socket.on("data", (chunk: Buffer) => {
      const now = (this.lastRead = Date.now());
      const frames = this.decoder.frames;
      try {
        this.decoder.push(chunk);
      } catch (e) {
        this.fail(e);
      }
      if (this.decoder.pending === 0) this.partialSince = 0;
      else if (this.partialSince === 0 || this.decoder.frames !== frames) this.startFrameTimer(now);
    });
    socket.on("drain", () => this.onDrain());
    socket.on("error", (e) => this.destroy(connectionError(this.remote, `socket error: ${e.message}`, e), "debug"));
    socket.on("close", () => this.destroy(connectionError(this.remote, "connection closed by peer"), "debug"));
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  protected onPreface(_version: number): void {}

  /**
   * The peer answered the preface with GOAWAY instead of SETTINGS: it refuses this connection and says why
   * (a TLS listener reached in plaintext, say). The connection closes with that reason.
   */
  protected onRefused(reason: string): void {
    this.refusal = `the node refused the connection: ${reason}`;
    this.destroy(connectionError(this.remote, this.refusal), "none");
  }
  /** Why the peer refused the connection before SETTINGS, if it did. */
  refusal: string | undefined;

  /**
   * A frame began to arrive at `now` and is not complete: it must be within `frameTimeout` (the handshake has
   * its own timer). One timer per connection, re-armed for what is left when it fires on a later frame.
   */
  private startFrameTimer(now: number): void {
    this.partialSince = now;
    if (this.frameTimer || this.peer === undefined || this.isClosed) return;
    const check = (): void => {
      this.frameTimer = undefined;
      if (this.partialSince === 0 || this.isClosed) return;
      const left = this.partialSince + this.opts.frameTimeout - Date.now();
      if (left > 0) {
        this.frameTimer = setTimeout(check, left);
        this.frameTimer.unref();
        return;
      }
      this.log.warn({ peer: this.remote, pending: this.decoder.pending }, `closing connection: a frame did not arrive whole within ${this.opts.frameTimeout}ms`);
      this.shutdown(GoAwayCode.PROTOCOL_ERROR, "frame timeout", connectionError(this.remote, `a frame did not arrive whole within ${this.opts.frameTimeout}ms`));
    };
    this.frameTimer = setTimeout(check, this.opts.frameTimeout);
    this.frameTimer.unref();
  }

  /** A PING+ACK arrived with these 8 bytes (the server's idle close waits for one). */
  protected onPingAck(_payload: Buffer): void {}

  /** Route one frame; subclasses handle stream-opening and stream-ending frames. */
  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.peer === undefined) {
      if (type === FrameType.GOAWAY && id === 0) return this.onRefused(decodeGoAway(payload).reason);
      if (type !== FrameType.SETTINGS || id !== 0) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `expected SETTINGS as the first frame, got type ${type}`);
      this.peer = decodeSettings(payload);
      this.onSettings();
      return;
    }
    switch (type) {
      case FrameType.DATA: {
        const s = this.streams.get(id);
        if (s) s.onData(payload, (flags & 1) !== 0);
        else this.onUnknownStream(type, id);
        return;
      }
      case FrameType.WINDOW: {
        const inc = payload.length === 4 ? payload.readUInt32BE(0) : 0;
        if (inc === 0 || inc > MAX_WINDOW) throw new ProtocolError(GoAwayCode.FLOW_CONTROL_ERROR, `invalid WINDOW increment ${inc}`);
        const s = this.streams.get(id);
        if (s) s.onWindow(inc);
        else this.onUnknownStream(type, id);
        return;
      }
      case FrameType.PING:
        if (id !== 0 || payload.length !== 8) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, "PING must be 8 bytes on stream 0");
        // A peer that pings but never reads gets no answers once our socket is backed up.
        if ((flags & ACK) === 0) {
          if (!this.blocked) this.writer.frame(FrameType.PING, ACK, 0, payload);
        } else this.onPingAck(payload);
        return;
      case FrameType.SETTINGS:
        throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, "SETTINGS sent twice");
      default:
        this.onStreamFrame(type, flags, id, payload);
    }
  }

  /** HEADERS, TRAILER, CANCEL, GOAWAY: differ between client and server. */
  protected abstract onStreamFrame(type: number, flags: number, id: number, payload: Buffer): void;
  /** A frame for a stream not in the map: closed earlier (ignore) or never opened (protocol error). */
  protected abstract onUnknownStream(type: number, id: number): void;
  /** The peer's SETTINGS arrived: the connection is usable. */
  protected abstract onSettings(): void;
  /** The connection closed: fail what is open. */
  protected abstract onClosed(error: MicroError | undefined): void;

  protected sendSettings(): void {
    this.writer.frame(FrameType.SETTINGS, 0, 0, encodeSettings(this.local));
  }

  protected startKeepalive(): void {
    const { keepaliveInterval, keepaliveTimeout } = this.opts;
    const tick = Math.max(5, Math.min(keepaliveInterval, keepaliveTimeout) / 2);
    this.keepaliveTimer = setInterval(() => this.checkKeepalive(), tick);
    this.keepaliveTimer.unref();
  }

  private checkKeepalive(): void {
    const now = Date.now();
    this.writer.trim();
    if (this.pingSentAt > 0) {
      if (this.lastRead >= this.pingSentAt) this.pingSentAt = 0;
      else if (now - this.pingSentAt >= this.opts.keepaliveTimeout) {
        this.log.warn({ peer: this.remote }, `closing connection: no answer to keepalive PING within ${this.opts.keepaliveTimeout}ms`);
        this.shutdown(GoAwayCode.KEEPALIVE_TIMEOUT, "keepalive timeout", connectionError(this.remote, `peer did not answer keepalive within ${this.opts.keepaliveTimeout}ms`));
        return;
      }
    }
    if (this.pingSentAt === 0 && now - this.lastRead >= this.opts.keepaliveInterval) {
      this.pingSentAt = now;
      this.pingPayload.writeDoubleBE(now, 0);
      this.writer.frame(FrameType.PING, 0, 0, this.pingPayload);
    }
  }

  private afterFlush(blocked: boolean): void {
    if (blocked) {
      this.blocked = true;
      if (this.socket.writableLength > this.opts.maxWriteBuffer) {
        this.log.warn({ peer: this.remote, buffered: this.socket.writableLength }, "closing connection: peer is not reading");
        this.destroy(connectionError(this.remote, "peer is not reading (write buffer full)"), "none");
      }
    } else if (this.writer.pending < WRITE_HIGH_WATER && this.blocked && !this.socket.writableNeedDrain) {
      this.onDrain();
    }
  }

  /** True when a sender may write more now. */
  writable(): boolean {
    if (this.blocked) return false;
    if (this.writer.pending >= WRITE_HIGH_WATER) {
      this.blocked = true;
      return false;
    }
    return true;
  }

  private onDrain(): void {
    if (this.isClosed) return;
    this.blocked = false;
    for (const s of this.streams.values()) {
      s.onWritable();
      if (this.blocked) break;
    }
  }

  /** A frame we could not accept: log, tell the peer why (GOAWAY), close this connection only. */
  protected fail(e: unknown): void {
    if (this.isClosed) return;
    if (e instanceof ProtocolError) {
      this.log.warn({ peer: this.remote, code: e.code }, `closing connection: ${e.message}`);
      this.shutdown(e.code, e.message, connectionError(this.remote, `protocol error: ${e.message}`));
    } else {
      this.log.error({ peer: this.remote, err: e }, "closing connection: internal error");
      this.shutdown(GoAwayCode.PROTOCOL_ERROR, "internal error", connectionError(this.remote, `internal error: ${e instanceof Error ? e.message : String(e)}`, e));
    }
  }

  /** Send GOAWAY with the code, flush, end the socket, and fail open streams with `error`. */
  shutdown(code: number, reason: string, error: MicroError | undefined, lastStreamId = 0): void {
    if (this.isClosed) return;
    if (!this.prefaceSent) return this.destroy(error, "none");
    this.writer.frame(FrameType.GOAWAY, 0, 0, encodeGoAway(lastStreamId, code, reason));
    this.writer.flush();
    this.destroy(error, "none", true);
  }

  /** Close now. `graceful` ends the socket after what is queued; otherwise it is destroyed. */
  destroy(error: MicroError | undefined, logLevel: "debug" | "none", graceful = false): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeError = error;
    this.decoder.stopped = true;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    if (this.frameTimer) clearTimeout(this.frameTimer);
    if (logLevel === "debug" && error) this.log.debug({ peer: this.remote }, error.detail);
    if (graceful) {
      this.writer.flush();
      this.writer.close();
      this.socket.end();
      // A peer that never reads must not keep the socket half-open forever.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else {
      this.writer.close();
      this.socket.destroy();
    }
    const streams = [...this.streams.values()];
    this.streams.clear();
    const err = error ?? connectionError(this.remote, "connection closed");
    for (const s of streams) s.onConnectionError(err);
    this.onClosed(error);
  }

  get error(): MicroError | undefined {
    return this.closeError;
  }
}
