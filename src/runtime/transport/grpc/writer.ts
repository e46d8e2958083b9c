/**
 * The send side of one gRPC stream, for client and server alike: framed messages are gathered and written
 * together (one DATA write per burst, not per message: a server stream's small messages cost one frame each
 * otherwise), at the latest on the next turn of the event loop, at once when {@link FLUSH_AT} bytes are
 * waiting, and with the end of the stream. HTTP/2 backpressure is respected: while the stream's buffer is
 * full (`write` returned false) a send's promise waits for 'drain', so at most FLUSH_AT bytes plus one
 * message wait here.
 */
import type { Http2Stream } from "node:http2";
import { frame } from "./framing.js";

/** Bytes gathered before they are written without waiting for the next turn. */
export const FLUSH_AT = 64 * 1024;

const RESOLVED = Promise.resolve();

type Waiter = { resolve: () => void; reject: (e: unknown) => void };

export class FrameWriter {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;
  private blocked = false;
  private waiters: Waiter[] = [];
  /** Makes the error sends fail with once the stream ended (made only when a send needs it: errors are costly). */
  private failed: (() => unknown) | undefined;

  constructor(
    private readonly stream: Http2Stream,
    private readonly gzip: boolean,
  ) {}

  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** Queue one message; resolves when the stream can take more. */
  send(message: Uint8Array): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed());
    const f = frame(message, this.gzip);
    this.chunks.push(f);
    this.bytes += f.length;
    if (this.bytes >= FLUSH_AT) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
    if (!this.blocked) return RESOLVED;
    if (this.waiters.length === 0) this.stream.once("drain", this.onDrain);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private readonly onDrain = (): void => {
    this.blocked = false;
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.resolve();
  };

  private take(): Buffer | undefined {
    if (this.bytes === 0) return undefined;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    return data;
  }

  /** Write what is gathered now. */
  flush(): void {
    const data = this.take();
    const s = this.stream;
    if (data === undefined || s.destroyed || s.writableEnded) return;
    if (!s.write(data)) this.blocked = true;
  }

  /** Write what is gathered and end this side of the stream (half-close). */
  end(): void {
    const data = this.take();
    const s = this.stream;
    if (s.destroyed || s.writableEnded) return;
    if (data === undefined) s.end();
    else s.end(data);
  }

  /** Sends from now on, and those waiting for room, fail with the error `error()` makes. */
  fail(error: () => unknown): void {
    if (this.failed !== undefined) return;
    this.failed = error;
    this.chunks = [];
    this.bytes = 0;
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    const e = error();
    for (const x of w) x.reject(e);
  }
}
