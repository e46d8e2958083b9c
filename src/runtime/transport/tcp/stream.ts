/**
 * Flow control and message passing shared by both ends of a stream.
 *
 * Sending: a DATA frame may go out while the stream's send window is positive (the window may then go
 * negative by up to one message), and while the socket is not backed up. Otherwise the message waits in
 * the stream and `send()` resolves only when it could be written. Receiving: the window granted to the
 * peer is given back with WINDOW frames as the application consumes messages, never before, so a
 * reader that stops makes the peer stop.
 */
import { MicroError } from "../../errors/index.js";
import { END_STREAM, FRAME_HEADER_LENGTH, FrameType, MAX_WINDOW, ProtocolError, GoAwayCode } from "./frame.js";
import { DONE, Inbox } from "./inbox.js";
import { MAX_TIMER, WINDOW_GROWTH_MS } from "./limits.js";
import { ID } from "./options.js";
import type { Session, SessionStream } from "./session.js";

export const RESOLVED: Promise<void> = Promise.resolve();

/** Made only when needed: an Error captures a stack, too dear for every stream's normal end. */
function closedError(): MicroError {
  return new MicroError(ID, 400, "the stream has ended; nothing more can be sent");
}

type Pending = { message: Uint8Array; resolve: () => void; reject: (e: unknown) => void };
type Waiter = { resolve: () => void; reject: (e: unknown) => void };

// Shared empty lists: most streams never queue, so they never allocate their own (never push into these).
const NO_PENDING: Pending[] = [];
const NO_WAITERS: Waiter[] = [];

export abstract class StreamEnd implements SessionStream, AsyncIterator<Uint8Array> {
  id = 0;
  /** Bytes we may still send. */
  sendWindow = 0;
  /** Bytes the peer may still send (our view). */
  protected recvWindow: number;
  /** Consumed bytes not yet granted back. */
  private consumed = 0;
  /** The receive window's current size: starts at our SETTINGS' INITIAL_WINDOW, grows up to `maxWindow`. */
  private window: number;
  /** Auto-tuning: bytes consumed since `periodStart` (ms, 0 until the first grant), and whether the peer used the whole window meanwhile. */
  private periodConsumed = 0;
  private periodStart = 0;
  private exhausted = false;
  readonly inbox: Inbox;
  private queue: Pending[] = NO_PENDING;
  private waiters: Waiter[] = NO_WAITERS;
  /** closeSend was called while messages were queued. */
  private endAfterQueue = false;
  /** No more sends from this side. */
  sendClosed = false;
  /** The peer half-closed. */
  remoteClosed = false;
  /** The stream is over for this side (trailer, cancel, deadline, connection loss). */
  finished = false;
  /** Why sends fail once finished. */
  protected endError: MicroError | undefined;
  /** The deadline's timer, if one is armed. */
  private timer: NodeJS.Timeout | undefined;

  constructor(protected readonly session: Session) {
    this.recvWindow = this.window = session.local.initialWindow;
    this.inbox = new Inbox(this);
  }

  /** Fail the stream in `ms` milliseconds unless it finished by then ({@link onDeadline} says how). */
  armDeadline(ms: number): void {
    // setTimeout fires at once beyond 2^31-1 ms; a deadline that far away is no deadline.
    if (ms > MAX_TIMER) return;
    this.timer = setTimeout(() => {
      if (this.finished) return;
      this.onDeadline(ms);
    }, ms);
  }

  /** The deadline armed `ms` ago passed before the stream finished. */
  protected abstract onDeadline(ms: number): void;

  /** The stream finished: its deadline no longer matters. */
  protected disarmDeadline(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** The stream is its own iterator (no allocation per call). */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  /** The next message from the peer (iterator protocol). */
  next(): Promise<IteratorResult<Uint8Array>> {
    return this.inbox.next();
  }

  /**
   * The application left its loop early (iterator protocol): drop what is buffered. A server stream stays open
   * for responses; a client stream cancels the call ({@link stoppedReading}).
   */
  return(): Promise<IteratorResult<Uint8Array>> {
    this.stoppedReading();
    this.inbox.clear();
    return Promise.resolve(DONE);
  }

  /** What leaving the read loop early means beyond dropping the buffer (nothing by default). */
  protected stoppedReading(): void {}

  /** Messages waiting for window or socket. */
  protected get queueLength(): number {
    return this.queue.length;
  }

  /** Runs once the queue is empty (the server's trailer waits behind queued messages). */
  protected afterQueue: (() => void) | undefined;

  /** The peer may take another message now. */
  protected canWrite(): boolean {
    return this.sendWindow > 0 && this.session.writable();
  }

  protected doSend(message: Uint8Array): Promise<void> {
    if (this.finished || this.sendClosed) return Promise.reject(this.endError ?? closedError());
    const max = this.session.peer?.maxMessageSize ?? Infinity;
    if (message.length > max) return this.refuseOversized(message.length, max);
    if (this.queue.length === 0 && this.started() && this.canWrite()) {
      this.writeData(message, false);
      if (this.canWrite()) return RESOLVED;
      return new Promise((resolve, reject) => (this.waiters === NO_WAITERS ? (this.waiters = []) : this.waiters).push({ resolve, reject }));
    }
    return new Promise((resolve, reject) => (this.queue === NO_PENDING ? (this.queue = []) : this.queue).push({ message, resolve, reject }));
  }

  /**
   * A message over the peer's `maxMessageSize`: nothing is sent and the send rejects with a 413 naming both
   * sizes and what to do. Each end also decides what becomes of the stream (a client's call cannot go on).
   */
  protected abstract refuseOversized(size: number, max: number): Promise<never>;

  /** HEADERS have gone out (client streams wait for a free slot first). */
  protected started(): boolean {
    return true;
  }

  protected writeData(message: Uint8Array, end: boolean): void {
    this.sendWindow -= message.length + FRAME_HEADER_LENGTH;
    // An empty DATA frame with END_STREAM means "no more messages", not "one empty message".
    if (end && message.length === 0) {
      this.session.writer.frame(FrameType.DATA, 0, this.id, message);
      this.session.writer.endStream(this.id);
      return;
    }
    this.session.writer.frame(FrameType.DATA, end ? END_STREAM : 0, this.id, message);
  }

  /** Half-close: after queued messages, if any. */
  protected doCloseSend(): void {
    if (this.sendClosed || this.finished) return;
    this.sendClosed = true;
    if (this.queue.length > 0 || !this.started()) {
      this.endAfterQueue = true;
      return;
    }
    this.session.writer.endStream(this.id);
  }

  /** The half-close went out on HEADERS: nothing is left to end later. */
  protected endSentWithHeaders(): void {
    this.endAfterQueue = false;
  }

  /** Write what the window and the socket allow; wake senders. */
  pump(): void {
    if (this.finished || !this.started()) return;
    while (this.queue.length > 0 && this.canWrite()) {
      const p = this.queue.shift()!;
      this.writeData(p.message, this.endAfterQueue && this.queue.length === 0);
      if (this.endAfterQueue && this.queue.length === 0) this.endAfterQueue = false;
      p.resolve();
    }
    if (this.queue.length === 0 && this.endAfterQueue) {
      this.endAfterQueue = false;
      this.session.writer.endStream(this.id);
    }
    if (this.queue.length === 0 && this.afterQueue) {
      const f = this.afterQueue;
      this.afterQueue = undefined;
      f();
      return;
    }
    if (this.queue.length === 0 && this.waiters.length > 0 && this.canWrite()) {
      const w = this.waiters;
      this.waiters = NO_WAITERS;
      for (const x of w) x.resolve();
    }
  }

  onWindow(increment: number): void {
    this.sendWindow += increment;
    if (this.sendWindow > MAX_WINDOW) throw new ProtocolError(GoAwayCode.FLOW_CONTROL_ERROR, `stream ${this.id} window overflow`);
    this.pump();
  }

  onWritable(): void {
    this.pump();
  }

  onData(payload: Buffer, end: boolean): void {
    if (this.remoteClosed) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `DATA on stream ${this.id} after it was half-closed`);
    if (payload.length > 0 || !end) {
      // Every message costs its payload plus a frame header, so empty messages cannot flood us.
      if (this.recvWindow <= 0) throw new ProtocolError(GoAwayCode.FLOW_CONTROL_ERROR, `stream ${this.id} sent DATA beyond its window`);
      this.recvWindow -= payload.length + FRAME_HEADER_LENGTH;
      if (this.recvWindow <= 0) this.exhausted = true;
      this.inbox.push(payload);
    }
    if (end) {
      this.remoteClosed = true;
      this.onRemoteEnd();
    }
  }

  /** The peer half-closed. */
  protected abstract onRemoteEnd(): void;

  /** The application took a message of `n` bytes (called by the inbox). */
  onConsume(n: number): void {
    if (this.remoteClosed || this.finished) return;
    this.consumed += n + FRAME_HEADER_LENGTH;
    if (this.consumed >= this.window >>> 1) {
      let inc = this.consumed;
      this.consumed = 0;
      if (this.window < this.session.opts.maxWindow) inc += this.grow(inc);
      this.recvWindow += inc;
      const p = this.session.writer.begin(FrameType.WINDOW, 0, this.id, 4);
      this.session.writer.slab.writeUInt32BE(inc, p);
    }
  }

  /**
   * Window auto-tuning (as HTTP/2 implementations do): once a whole window has been consumed, double it (up to
   * `maxWindow`) if the peer had used all of it and the reader took it within {@link WINDOW_GROWTH_MS}. A
   * reader that leaves after a few messages never grows it, so a cancel wastes at most the initial window.
   * Returns the bytes to add to this grant.
   */
  private grow(granted: number): number {
    const now = Date.now();
    if (this.periodStart === 0) this.periodStart = now;
    this.periodConsumed += granted;
    if (this.periodConsumed < this.window) return 0;
    const quick = this.exhausted && now - this.periodStart <= WINDOW_GROWTH_MS;
    this.periodConsumed = 0;
    this.periodStart = now;
    this.exhausted = false;
    if (!quick) return 0;
    const next = Math.min(this.window * 2, this.session.opts.maxWindow);
    const extra = next - this.window;
    this.window = next;
    return extra;
  }

  /** Stop sending for good: queued messages fail with `error`; senders whose message went out resolve. */
  protected finishSend(error: MicroError | undefined): void {
    this.endError = error;
    if (this.queue.length === 0 && this.waiters.length === 0) return;
    const q = this.queue;
    const w = this.waiters;
    this.queue = NO_PENDING;
    this.waiters = NO_WAITERS;
    for (const p of q) p.reject(error ?? closedError());
    for (const x of w) x.resolve();
  }

  abstract onConnectionError(error: MicroError): void;
}
