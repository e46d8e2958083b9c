/**
 * MicroError ↔ gRPC status, in both directions (docs/grpc.md has the table). A micro-ts peer also gets the
 * exact MicroError (`id`, `code`, `detail`, `status`) as JSON in the `micro-error` trailer; a foreign peer
 * gets the status code, the percent-encoded `grpc-message` and a `google.rpc.Status` in
 * `grpc-status-details-bin`.
 */
import { MicroError, statusText } from "../../errors/index.js";

/** The gRPC status codes (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const NAMES: readonly string[] = Object.keys(GrpcStatus);

/** `NOT_FOUND` for 5; `CODE_<n>` for a code outside the table. */
export function statusName(code: number): string {
  return NAMES[code] ?? `CODE_${code}`;
}

const TO_GRPC: Readonly<Record<number, number>> = {
  400: GrpcStatus.INVALID_ARGUMENT,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.NOT_FOUND,
  405: GrpcStatus.UNIMPLEMENTED,
  408: GrpcStatus.DEADLINE_EXCEEDED,
  409: GrpcStatus.ALREADY_EXISTS,
  412: GrpcStatus.FAILED_PRECONDITION,
  413: GrpcStatus.RESOURCE_EXHAUSTED,
  429: GrpcStatus.RESOURCE_EXHAUSTED,
  499: GrpcStatus.CANCELLED,
  500: GrpcStatus.INTERNAL,
  501: GrpcStatus.UNIMPLEMENTED,
  502: GrpcStatus.UNAVAILABLE,
  503: GrpcStatus.UNAVAILABLE,
  504: GrpcStatus.DEADLINE_EXCEEDED,
};

const FROM_GRPC: readonly number[] = [
  200, // OK
  499, // CANCELLED
  500, // UNKNOWN
  400, // INVALID_ARGUMENT
  408, // DEADLINE_EXCEEDED
  404, // NOT_FOUND
  409, // ALREADY_EXISTS
  403, // PERMISSION_DENIED
  429, // RESOURCE_EXHAUSTED
  412, // FAILED_PRECONDITION
  409, // ABORTED
  400, // OUT_OF_RANGE
  501, // UNIMPLEMENTED
  500, // INTERNAL
  503, // UNAVAILABLE
  500, // DATA_LOSS
  401, // UNAUTHENTICATED
];

/** The gRPC status of a MicroError code: the table, else FAILED_PRECONDITION for other 4xx and INTERNAL for the rest. */
export function toGrpcStatus(code: number): number {
  return TO_GRPC[code] ?? (code >= 400 && code < 500 ? GrpcStatus.FAILED_PRECONDITION : code >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.UNKNOWN);
}

/** The MicroError code of a gRPC status (unknown codes are 500). */
export function fromGrpcStatus(status: number): number {
  return FROM_GRPC[status] ?? 500;
}

/** The id of errors made from a foreign peer's gRPC status (no `micro-error` trailer). */
export const GRPC_STATUS_ERROR_ID = "grpc";

/**
 * The MicroError a client reports for a stream that ended with `status`: the peer's own MicroError when it
 * sent one in `micro-error` (a micro-ts server), else one made from the status and message.
 */
export function errorFromStatus(status: number, message: string, microError: string | undefined): MicroError {
  if (microError !== undefined) {
    try {
      const j = JSON.parse(microError) as { id?: unknown; code?: unknown; detail?: unknown; status?: unknown };
      if (typeof j.id === "string" && typeof j.code === "number" && typeof j.detail === "string") {
        return new MicroError(j.id, j.code, j.detail, typeof j.status === "string" ? j.status : statusText(j.code));
      }
    } catch {
      // Not our JSON (a foreign server using the same trailer name): fall back to the status below.
    }
  }
  const code = fromGrpcStatus(status);
  return new MicroError(GRPC_STATUS_ERROR_ID, code, message === "" ? statusName(status) : message, statusText(code));
}

/** Percent-encode a `grpc-message` (bytes outside 0x20–0x7E and `%`), as the gRPC spec asks. */
export function encodeGrpcMessage(text: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(text)) return text;
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Decode a percent-encoded `grpc-message`; a malformed escape is kept as it is (the spec says never to fail on it). */
export function decodeGrpcMessage(text: string): string {
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && i + 2 < text.length && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString("utf8");
}

function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

/** `google.rpc.Status { code = 1; message = 2; }` in protobuf, base64 for `grpc-status-details-bin`. */
export function statusDetails(status: number, message: string): string {
  const out: number[] = [];
  if (status !== 0) {
    out.push(0x08);
    varint(status, out);
  }
  const text = Buffer.from(message, "utf8");
  if (text.length > 0) {
    out.push(0x12);
    varint(text.length, out);
  }
  return Buffer.concat([Buffer.from(out), text]).toString("base64");
}
