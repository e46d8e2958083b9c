/**
 * gRPC's message framing: each message is a 1-byte compressed flag, a 4-byte big-endian length and the
 * bytes. The deframer checks a length against the limit before buffering anything of the message, so an
 * oversized (or hostile, 2 GB) length prefix fails the stream at once and nothing is truncated.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { MicroError } from "../../errors/index.js";
import { TRANSPORT_ERROR_ID } from "../index.js";

/** Messages at least this large are gzip-compressed when the stream's encoding is gzip; smaller ones go as they are (per-message flag). */
export const COMPRESS_MIN = 1024;

/** One framed message; compressed with gzip when `gzip` and the message is worth it. */
export function frame(message: Uint8Array, gzip: boolean): Buffer {
  let body: Uint8Array = message;
  let flag = 0;
  if (gzip && message.length >= COMPRESS_MIN) {
    body = gzipSync(message);
    flag = 1;
  }
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = flag;
  out.writeUInt32BE(body.length, 1);
  out.set(body, 5);
  return out;
}

/** What a whole message turned out to be: its bytes, or the error that fails the stream. */
export type DeframeResult = MicroError | undefined;

/**
 * Splits a stream's DATA into messages. `push` returns an error (413 for a message over `maxMessageSize`,
 * compressed or not; 400 for a compressed message without an encoding) and stops; the stream must then end.
 */
export class Deframer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Length of the message being assembled (-1: reading a prefix). */
  private need = -1;
  private compressed = false;

  constructor(
    private readonly maxMessageSize: number,
    /** The stream's `grpc-encoding` is gzip (a flagged message is gzip); otherwise a flagged message is an error. */
    private readonly gzip: boolean,
    private readonly onMessage: (message: Uint8Array) => void,
  ) {}

  /** Bytes received and not yet a whole message. */
  get buffered(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): DeframeResult {
    // Fast path: nothing pending and the chunk holds whole messages.
    let buf = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      const want = this.need < 0 ? 5 : this.need;
      if (this.pendingBytes < want) return undefined;
      buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let off = 0;
    for (;;) {
      if (this.need < 0) {
        if (buf.length - off < 5) break;
        const flag = buf[off]!;
        const length = buf.readUInt32BE(off + 1);
        if (flag > 1) return new MicroError(TRANSPORT_ERROR_ID, 400, `malformed gRPC message: compressed flag ${flag} (must be 0 or 1)`);
        if (length > this.maxMessageSize) return tooLarge(length, this.maxMessageSize);
        if (flag === 1 && !this.gzip) return new MicroError(TRANSPORT_ERROR_ID, 400, "a compressed gRPC message on a stream without grpc-encoding");
        this.compressed = flag === 1;
        this.need = length;
        off += 5;
      }
      if (buf.length - off < this.need) break;
      const message = buf.subarray(off, off + this.need);
      off += this.need;
      this.need = -1;
      if (this.compressed) {
        let plain: Buffer;
        try {
          plain = gunzipSync(message, { maxOutputLength: this.maxMessageSize });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) return tooLarge(this.maxMessageSize + 1, this.maxMessageSize, "decompressed ");
          return new MicroError(TRANSPORT_ERROR_ID, 400, `a gzip gRPC message does not decompress: ${(e as Error).message}`);
        }
        this.onMessage(plain);
      } else this.onMessage(message);
    }
    if (off < buf.length) {
      const rest = buf.subarray(off);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
    return undefined;
  }
}

function tooLarge(length: number, max: number, what = ""): MicroError {
  return new MicroError(TRANSPORT_ERROR_ID, 413, `${what}gRPC message of ${length > max + 1 || what === "" ? `${length} bytes` : `more than ${max} bytes`} is over the limit of ${max} bytes (maxMessageSize)`);
}
