/**
 * The wire format of the tcp transport (docs/protocol.md): the connection preface, the 10-byte frame
 * header, and the binary encodings of the HEADERS, TRAILER, SETTINGS and GOAWAY payloads.
 *
 * Everything here is pure (no sockets) so that the decoder can be fuzzed in-process. Decoding never
 * trusts a length it has not checked against what is left and against the configured limits; anything
 * that does not parse throws a {@link ProtocolError}, which closes that one connection.
 */
import type { MethodKind } from "../../definition/index.js";
import { MicroError, statusText } from "../../errors/index.js";

/** `micro\0`, then the version byte and a flags byte (0). */
export const PREFACE_MAGIC = Buffer.from([0x6d, 0x69, 0x63, 0x72, 0x6f, 0x00]);
export const PREFACE_LENGTH = 8;
/** The protocol version this implementation speaks. */
export const PROTOCOL_VERSION = 1;
/** length u32 · type u8 · flags u8 · stream id u32, all big-endian. */
export const FRAME_HEADER_LENGTH = 10;

export const FrameType = {
  SETTINGS: 1,
  HEADERS: 2,
  DATA: 3,
  TRAILER: 4,
  CANCEL: 5,
  WINDOW: 6,
  PING: 7,
  GOAWAY: 8,
} as const;

/** Flag bits. END_STREAM on HEADERS/DATA (half-close); ACK on PING. */
export const END_STREAM = 0x1;
export const ACK = 0x1;

/** Why a connection is closed; sent in GOAWAY. */
export const GoAwayCode = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  FRAME_TOO_LARGE: 2,
  FLOW_CONTROL_ERROR: 3,
  TOO_MANY_STREAMS: 4,
  UNSUPPORTED_VERSION: 5,
  KEEPALIVE_TIMEOUT: 6,
} as const;

export const SettingId = {
  MAX_CONCURRENT_STREAMS: 1,
  MAX_MESSAGE_SIZE: 2,
  INITIAL_WINDOW: 3,
  MAX_HEADER_SIZE: 4,
} as const;

/** What each side announces in its SETTINGS frame. */
export interface Settings {
  /** Streams the sender accepts open at once on this connection. */
  maxConcurrentStreams: number;
  /** Largest DATA payload (one message) the sender accepts. */
  maxMessageSize: number;
  /** Bytes of DATA the peer may send on a new stream before the sender grants more with WINDOW. */
  initialWindow: number;
  /** Largest HEADERS/TRAILER payload the sender accepts. */
  maxHeaderSize: number;
}

export const DEFAULT_SETTINGS: Settings = {
  maxConcurrentStreams: 1024,
  maxMessageSize: 4 * 1024 * 1024,
  initialWindow: 256 * 1024,
  maxHeaderSize: 64 * 1024,
};

/** Fixed upper bounds of the control frames. */
export const MAX_SETTINGS_PAYLOAD = 60;
export const MAX_CANCEL_PAYLOAD = 1024;
export const MAX_GOAWAY_PAYLOAD = 5 + 1024;
/** A window may never exceed 2^31-1 bytes. */
export const MAX_WINDOW = 0x7fffffff;
/** The largest stream id (2^31-1); a client that used them all opens a new connection. */
export const MAX_STREAM_ID = 0x7fffffff;

/** A peer broke the protocol; the connection is closed with this code and reason. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const KINDS: readonly MethodKind[] = ["unary", "server_streaming", "client_streaming", "bidi_streaming"];
const KIND_CODE: Record<MethodKind, number> = { unary: 0, server_streaming: 1, client_streaming: 2, bidi_streaming: 3 };

/** The client preface for a version. */
export function encodePreface(version = PROTOCOL_VERSION): Buffer {
  const b = Buffer.alloc(PREFACE_LENGTH);
  PREFACE_MAGIC.copy(b, 0);
  b[6] = version;
  b[7] = 0;
  return b;
}

/** The version in a preface, or a ProtocolError if the bytes are not a micro preface. */
export function decodePreface(b: Uint8Array): number {
  for (let i = 0; i < PREFACE_MAGIC.length; i++) {
    if (b[i] !== PREFACE_MAGIC[i]) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, "bad preface: the peer does not speak the micro tcp protocol");
  }
  return b[6];
}

/** Largest payload a frame type may carry under the given local limits; -1 for an unknown type. */
export function maxPayload(type: number, local: Settings): number {
  switch (type) {
    case FrameType.DATA:
      return local.maxMessageSize;
    case FrameType.HEADERS:
    case FrameType.TRAILER:
      return local.maxHeaderSize;
    case FrameType.SETTINGS:
      return MAX_SETTINGS_PAYLOAD;
    case FrameType.CANCEL:
      return MAX_CANCEL_PAYLOAD;
    case FrameType.WINDOW:
      return 4;
    case FrameType.PING:
      return 8;
    case FrameType.GOAWAY:
      return MAX_GOAWAY_PAYLOAD;
    default:
      return -1;
  }
}

export type FrameHandler = (type: number, flags: number, streamId: number, payload: Buffer) => void;

/**
 * Splits a byte stream into frames. Received chunks are parsed in place; only a frame that spans chunks
 * is joined, once, when all its bytes are there (no concat of everything received). Frame headers are
 * checked as soon as their 10 bytes arrive, so an oversized length is refused before its payload is read.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need: number;
  private prefaceDone: boolean;
  /** Set by the owner to stop parsing (e.g. the connection closed inside a callback). */
  stopped = false;
  /** Frames decoded so far: tells a frame still arriving from the next one (the frame timeout). */
  frames = 0;

  constructor(
    private readonly limits: Settings,
    private readonly onFrame: FrameHandler,
    private readonly onPreface?: (version: number) => void,
  ) {
    this.prefaceDone = !onPreface;
    this.need = this.prefaceDone ? FRAME_HEADER_LENGTH : PREFACE_LENGTH;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Feed received bytes; throws ProtocolError on bad input. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.buffered === 0) {
      this.parse(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return;
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    this.parse(all);
  }

  private parse(buf: Buffer): void {
    let off = 0;
    const end = buf.length;
    if (!this.prefaceDone) {
      if (end < PREFACE_LENGTH) return this.keep(buf, 0, PREFACE_LENGTH);
      const version = decodePreface(buf);
      this.prefaceDone = true;
      off = PREFACE_LENGTH;
      this.onPreface!(version);
      if (this.stopped) return;
    }
    while (end - off >= FRAME_HEADER_LENGTH) {
      const length = buf.readUInt32BE(off);
      const type = buf[off + 4];
      const limit = maxPayload(type, this.limits);
      if (limit < 0) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `unknown frame type ${type}`);
      if (length > limit) {
        throw new ProtocolError(GoAwayCode.FRAME_TOO_LARGE, `frame of type ${type} carries ${length} bytes, more than the limit of ${limit}`);
      }
      if (end - off - FRAME_HEADER_LENGTH < length) return this.keep(buf, off, FRAME_HEADER_LENGTH + length);
      const flags = buf[off + 5];
      const streamId = buf.readUInt32BE(off + 6);
      const start = off + FRAME_HEADER_LENGTH;
      off = start + length;
      this.frames++;
      this.onFrame(type, flags, streamId, buf.subarray(start, off));
      if (this.stopped) return;
    }
    if (off < end) this.keep(buf, off, FRAME_HEADER_LENGTH);
    else this.need = FRAME_HEADER_LENGTH;
  }

  private keep(buf: Buffer, off: number, need: number): void {
    const rest = off === 0 ? buf : buf.subarray(off);
    this.chunks = [rest];
    this.buffered = rest.length;
    this.need = need;
  }
}

// ---- payload encodings ----------------------------------------------------------------------------

/** Reads the binary payload encodings with bounds checks. */
export class PayloadReader {
  off = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.off;
  }

  u8(): number {
    if (this.off >= this.buf.length) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, "payload truncated");
    return this.buf[this.off++];
  }

  /** Unsigned LEB128, at most 5 bytes, at most 2^32-1. */
  varint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) break;
        return result;
      }
      shift += 7;
    }
    throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, "malformed varint");
  }

  string(): string {
    const n = this.varint();
    if (n > this.remaining) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `string of ${n} bytes overruns the payload`);
    const s = this.buf.toString("utf8", this.off, this.off + n);
    this.off += n;
    return s;
  }

  end(what: string): void {
    if (this.off !== this.buf.length) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `${this.buf.length - this.off} trailing bytes after the ${what}`);
  }
}

export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

export function writeVarint(buf: Buffer, off: number, n: number): number {
  while (n >= 0x80) {
    buf[off++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

function stringSize(s: string): number {
  const n = Buffer.byteLength(s);
  return varintSize(n) + n;
}

function writeString(buf: Buffer, off: number, s: string): number {
  // ASCII fast path: one byte per char, the varint length is the string length.
  const len = s.length;
  if (len < 0x80) {
    let ascii = true;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      buf[off + 1 + i] = c;
    }
    if (ascii) {
      buf[off] = len;
      return off + 1 + len;
    }
  }
  const n = Buffer.byteLength(s);
  off = writeVarint(buf, off, n);
  return off + buf.write(s, off, n, "utf8");
}

function metadataSize(md: Readonly<Record<string, string>> | undefined): number {
  if (!md) return 1;
  let size = 0;
  let count = 0;
  for (const k in md) {
    const v = md[k];
    if (typeof v !== "string") continue;
    size += stringSize(k) + stringSize(v);
    count++;
  }
  return size + varintSize(count);
}

function writeMetadata(buf: Buffer, off: number, md: Readonly<Record<string, string>> | undefined): number {
  if (!md) {
    buf[off] = 0;
    return off + 1;
  }
  let count = 0;
  for (const k in md) if (typeof md[k] === "string") count++;
  off = writeVarint(buf, off, count);
  for (const k in md) {
    const v = md[k];
    if (typeof v !== "string") continue;
    off = writeString(buf, off, k);
    off = writeString(buf, off, v);
  }
  return off;
}

function readMetadata(r: PayloadReader): Record<string, string> {
  const count = r.varint();
  // Each pair needs at least two bytes; refuse counts the payload cannot hold before looping.
  if (count * 2 > r.remaining) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `metadata count ${count} overruns the payload`);
  const md: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const k = r.string();
    const v = r.string();
    // Never let a peer reach Object.prototype through a key.
    if (k === "__proto__") continue;
    md[k] = v;
  }
  return md;
}

/** What travels in a HEADERS frame. `timeout` is relative (ms), so clocks need not agree. */
export interface WireHeader {
  service: string;
  endpoint: string;
  contentType: string;
  kind: MethodKind;
  metadata: Record<string, string>;
  /** Milliseconds the server has before the call's deadline. */
  timeout?: number;
}

/** Payload size of a HEADERS frame. */
export function headerSize(h: { service: string; endpoint: string; contentType: string; metadata?: Readonly<Record<string, string>> }, timeout: number | undefined): number {
  return 2 + (timeout === undefined ? 0 : varintSize(timeout)) + stringSize(h.service) + stringSize(h.endpoint) + stringSize(h.contentType) + metadataSize(h.metadata);
}

/** Writes a HEADERS payload; returns the end offset. */
export function writeHeader(
  buf: Buffer,
  off: number,
  h: { service: string; endpoint: string; contentType: string; kind: MethodKind; metadata?: Readonly<Record<string, string>> },
  timeout: number | undefined,
): number {
  buf[off++] = KIND_CODE[h.kind] ?? 0;
  buf[off++] = timeout === undefined ? 0 : 1;
  if (timeout !== undefined) off = writeVarint(buf, off, timeout);
  off = writeString(buf, off, h.service);
  off = writeString(buf, off, h.endpoint);
  off = writeString(buf, off, h.contentType);
  return writeMetadata(buf, off, h.metadata);
}

export function encodeHeader(h: WireHeader): Buffer {
  const timeout = h.timeout === undefined ? undefined : clampTimeout(h.timeout);
  const b = Buffer.alloc(headerSize(h, timeout));
  writeHeader(b, 0, h, timeout);
  return b;
}

export function clampTimeout(ms: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.ceil(ms)));
}

export function decodeHeader(payload: Buffer): WireHeader {
  const r = new PayloadReader(payload);
  const kindCode = r.u8();
  const kind = KINDS[kindCode];
  if (kind === undefined) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `unknown method kind ${kindCode} in HEADERS`);
  const flags = r.u8();
  if (flags & ~1) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `unknown HEADERS flags ${flags}`);
  const timeout = flags & 1 ? r.varint() : undefined;
  const service = r.string();
  const endpoint = r.string();
  const contentType = r.string();
  const metadata = readMetadata(r);
  r.end("HEADERS");
  return timeout === undefined ? { kind, service, endpoint, contentType, metadata } : { kind, service, endpoint, contentType, metadata, timeout };
}

/** What travels in a TRAILER frame. */
export interface WireTrailer {
  error?: MicroError;
  metadata: Record<string, string>;
}

export function trailerSize(error: MicroError | undefined, metadata: Readonly<Record<string, string>> | undefined): number {
  let size = 1 + metadataSize(metadata);
  if (error) size += stringSize(String(error.id ?? "")) + varintSize(errorCode(error)) + stringSize(String(error.detail ?? "")) + stringSize(String(error.status ?? ""));
  return size;
}

function errorCode(error: MicroError): number {
  const c = error.code;
  return Number.isInteger(c) && c >= 0 && c <= 0xffffffff ? c : 500;
}

export function writeTrailer(buf: Buffer, off: number, error: MicroError | undefined, metadata: Readonly<Record<string, string>> | undefined): number {
  buf[off++] = error ? 1 : 0;
  if (error) {
    off = writeString(buf, off, String(error.id ?? ""));
    off = writeVarint(buf, off, errorCode(error));
    off = writeString(buf, off, String(error.detail ?? ""));
    off = writeString(buf, off, String(error.status ?? ""));
  }
  return writeMetadata(buf, off, metadata);
}

export function encodeTrailer(t: WireTrailer): Buffer {
  const b = Buffer.alloc(trailerSize(t.error, t.metadata));
  writeTrailer(b, 0, t.error, t.metadata);
  return b;
}

export function decodeTrailer(payload: Buffer): WireTrailer {
  const r = new PayloadReader(payload);
  const flags = r.u8();
  if (flags & ~1) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `unknown TRAILER flags ${flags}`);
  let error: MicroError | undefined;
  if (flags & 1) {
    const id = r.string();
    const code = r.varint();
    const detail = r.string();
    const status = r.string();
    error = new MicroError(id, code, detail, status || statusText(code));
  }
  const metadata = readMetadata(r);
  r.end("TRAILER");
  return error ? { error, metadata } : { metadata };
}

export function encodeSettings(s: Settings): Buffer {
  const b = Buffer.alloc(24);
  const entries: Array<[number, number]> = [
    [SettingId.MAX_CONCURRENT_STREAMS, s.maxConcurrentStreams],
    [SettingId.MAX_MESSAGE_SIZE, s.maxMessageSize],
    [SettingId.INITIAL_WINDOW, s.initialWindow],
    [SettingId.MAX_HEADER_SIZE, s.maxHeaderSize],
  ];
  entries.forEach(([id, v], i) => {
    b.writeUInt16BE(id, i * 6);
    b.writeUInt32BE(v >>> 0, i * 6 + 2);
  });
  return b;
}

/** Unknown setting ids are ignored (room for extensions); known ones must be sane. */
export function decodeSettings(payload: Buffer): Settings {
  if (payload.length % 6 !== 0) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `SETTINGS payload of ${payload.length} bytes is not a multiple of 6`);
  const s: Settings = { ...DEFAULT_SETTINGS };
  for (let off = 0; off < payload.length; off += 6) {
    const id = payload.readUInt16BE(off);
    const v = payload.readUInt32BE(off + 2);
    switch (id) {
      case SettingId.MAX_CONCURRENT_STREAMS:
        s.maxConcurrentStreams = v;
        break;
      case SettingId.MAX_MESSAGE_SIZE:
        s.maxMessageSize = v;
        break;
      case SettingId.INITIAL_WINDOW:
        if (v < 1 || v > MAX_WINDOW) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, `invalid INITIAL_WINDOW ${v}`);
        s.initialWindow = v;
        break;
      case SettingId.MAX_HEADER_SIZE:
        s.maxHeaderSize = v;
        break;
    }
  }
  return s;
}

export function encodeGoAway(lastStreamId: number, code: number, reason: string): Buffer {
  const text = Buffer.from(reason, "utf8").subarray(0, MAX_GOAWAY_PAYLOAD - 5);
  const b = Buffer.alloc(5 + text.length);
  b.writeUInt32BE(lastStreamId >>> 0, 0);
  b[4] = code;
  text.copy(b, 5);
  return b;
}

export function decodeGoAway(payload: Buffer): { lastStreamId: number; code: number; reason: string } {
  if (payload.length < 5) throw new ProtocolError(GoAwayCode.PROTOCOL_ERROR, "GOAWAY payload shorter than 5 bytes");
  return { lastStreamId: payload.readUInt32BE(0), code: payload[4], reason: payload.toString("utf8", 5) };
}

/** Encodes one whole frame (tests, fuzzing and control frames; the hot path writes in place). */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array = EMPTY): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + payload.length);
  b.writeUInt32BE(payload.length, 0);
  b[4] = type;
  b[5] = flags;
  b.writeUInt32BE(streamId >>> 0, 6);
  b.set(payload, FRAME_HEADER_LENGTH);
  return b;
}

export const EMPTY = new Uint8Array(0);
