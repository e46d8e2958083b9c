/**
 * Coalesces outgoing frames: frames are encoded straight into a slab buffer and the whole batch goes to
 * the socket in one write (writev when a large payload is referenced, not copied) on process.nextTick,
 * i.e. after the current callback and every promise continuation it triggered. Many small frames from
 * many streams thus cost one syscall, without waiting for the next event-loop turn.
 */
import type { Socket } from "node:net";
import { DATA_COPY_LIMIT } from "./limits.js";
import { END_STREAM, FRAME_HEADER_LENGTH, FrameType } from "./frame.js";

const SLAB = 64 * 1024;
/** No slab yet: the first frame allocates one. Idle connections give theirs back ({@link FrameWriter.trim}). */
const NO_SLAB = Buffer.alloc(0);

export class FrameWriter {
  private buf: Buffer = NO_SLAB;
  private start = 0;
  private pos = 0;
  private out: Buffer[] = [];
  private outBytes = 0;
  private scheduled = false;
  /** Offset of the flags byte of the last DATA frame still in the slab, and its stream (for END_STREAM folding). */
  private lastDataFlags = -1;
  private lastDataStream = 0;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    /** Called after every flush (the session re-checks backpressure). */
    private readonly onFlush: (blocked: boolean) => void,
  ) {}

  /** Bytes encoded but not yet handed to the socket. */
  get pending(): number {
    return this.outBytes + (this.pos - this.start);
  }

  /** Reserve `size` payload bytes after a frame header; returns the payload offset in {@link slab}. */
  begin(type: number, flags: number, streamId: number, size: number): number {
    this.ensure(FRAME_HEADER_LENGTH + size);
    const b = this.buf;
    let p = this.pos;
    b.writeUInt32BE(size, p);
    b[p + 4] = type;
    b[p + 5] = flags;
    b.writeUInt32BE(streamId, p + 6);
    p += FRAME_HEADER_LENGTH;
    this.pos = p + size;
    this.lastDataFlags = -1;
    this.schedule();
    return p;
  }

  /** The slab the last {@link begin} reserved space in. */
  get slab(): Buffer {
    return this.buf;
  }

  /** A frame with an opaque payload (DATA, PING, …). Large payloads are referenced, not copied. */
  frame(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    const size = payload.length;
    if (size <= DATA_COPY_LIMIT) {
      const p = this.begin(type, flags, streamId, size);
      if (size > 0) this.buf.set(payload, p);
    } else {
      this.begin(type, flags, streamId, 0);
      this.buf.writeUInt32BE(size, this.pos - FRAME_HEADER_LENGTH);
      this.seal();
      this.out.push(Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
      this.outBytes += size;
    }
    // An empty DATA frame with END_STREAM is a pure half-close, so an empty message never gets the bit.
    if (type === FrameType.DATA && size > 0 && size <= DATA_COPY_LIMIT) {
      this.lastDataFlags = this.pos - size - FRAME_HEADER_LENGTH + 5;
      this.lastDataStream = streamId;
    }
  }

  /**
   * Half-close a stream: set END_STREAM on its DATA frame if that is the last frame still unsent,
   * otherwise send an empty DATA frame with END_STREAM.
   */
  endStream(streamId: number): void {
    if (this.lastDataFlags >= 0 && this.lastDataStream === streamId) {
      this.buf[this.lastDataFlags] |= END_STREAM;
      this.lastDataFlags = -1;
      return;
    }
    this.begin(FrameType.DATA, END_STREAM, streamId, 0);
  }

  /** Hand everything encoded so far to the socket now. */
  flush(): void {
    this.scheduled = false;
    if (this.closed) return;
    this.seal();
    this.lastDataFlags = -1;
    const out = this.out;
    if (out.length === 0) return;
    this.out = [];
    this.outBytes = 0;
    const socket = this.socket;
    if (socket.destroyed) return;
    let ok: boolean;
    if (out.length === 1) ok = socket.write(out[0]);
    else {
      socket.cork();
      for (let i = 0; i < out.length - 1; i++) socket.write(out[i]);
      ok = socket.write(out[out.length - 1]);
      socket.uncork();
    }
    this.onFlush(!ok);
  }

  /** Release the slab while nothing is pending, so that idle connections hold no write memory. */
  trim(): void {
    if (this.scheduled || this.out.length > 0 || this.pos !== this.start) return;
    this.buf = NO_SLAB;
    this.start = this.pos = 0;
    this.lastDataFlags = -1;
  }

  /** Drop anything unsent; later frames are ignored. */
  close(): void {
    this.closed = true;
    this.out = [];
    this.outBytes = 0;
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    process.nextTick(this.flushBound);
  }

  private readonly flushBound = (): void => this.flush();

  private ensure(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    this.seal();
    this.buf = Buffer.allocUnsafe(Math.max(SLAB, n));
    this.start = this.pos = 0;
    this.lastDataFlags = -1;
  }

  /** Move the encoded bytes of the slab to the output list; the slab's rest stays usable. */
  private seal(): void {
    if (this.pos > this.start) {
      this.out.push(this.buf.subarray(this.start, this.pos));
      this.outBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }
}
