/**
 * The receive side of one gRPC stream, for client and server alike: DATA is deframed into an inbox the
 * application iterates. Flow control is HTTP/2's own: when more than {@link HIGH_WATER} bytes wait unread the
 * stream is paused, so node stops granting WINDOW_UPDATEs and the sender blocks; reading resumes it.
 */
import type { Http2Stream } from "node:http2";
import type { MicroError } from "../../errors/index.js";
import { Inbox } from "../tcp/inbox.js";
import { Deframer } from "./framing.js";

/** Unread bytes above which the stream is paused (one window's worth is still in flight on top). */
export const HIGH_WATER = 256 * 1024;

export class Receiver {
  readonly inbox: Inbox;
  private readonly deframer: Deframer;
  private paused = false;

  constructor(
    private readonly stream: Http2Stream,
    maxMessageSize: number,
    gzip: boolean,
    /** A message over the limit or malformed: the owner ends the stream with this error. */
    onError: (error: MicroError) => void,
  ) {
    this.inbox = new Inbox(this);
    this.deframer = new Deframer(maxMessageSize, gzip, (m) => this.inbox.push(m));
    stream.on("data", (chunk: Buffer) => {
      if (this.inbox.isEnded) return;
      const error = this.deframer.push(chunk);
      if (error !== undefined) {
        onError(error);
        return;
      }
      if (!this.paused && this.inbox.bytes > HIGH_WATER) {
        this.paused = true;
        stream.pause();
      }
    });
  }

  /** Whether a partial message is pending (the peer ended mid-message). */
  get partial(): boolean {
    return this.deframer.buffered > 0;
  }

  onConsume(): void {
    if (this.paused && this.inbox.bytes <= HIGH_WATER / 2) {
      this.paused = false;
      this.stream.resume();
    }
  }
}
