/**
 * How the gateway turns any failure into an HTTP status and a `{ id, code, detail, status }` body. The
 * client never sees a stack trace: unknown errors become a plain 500 with a generic detail.
 */
import type { Duplex } from "node:stream";
import { MicroError, statusText } from "../runtime/errors/index.js";

/** The HTTP status for a MicroError: its code when it is one; a backend timeout (408) becomes 504. */
export function httpStatus(error: MicroError): number {
  if (error.code === 408) return 504;
  if (Number.isInteger(error.code) && error.code >= 400 && error.code <= 599) return error.code;
  return 500;
}

/** 405 for a path some route serves with other methods; the gateway answers it with an `Allow` header. */
export class MethodNotAllowed extends MicroError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly allow: readonly string[],
  ) {
    super("micro.api", 405, `${method} is not allowed on ${path}: use ${allow.join(", ")}`);
  }
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/**
 * Any thrown value as the MicroError the gateway answers with. Errors raised by fastify itself (body too
 * large, unsupported media type, bad request line) keep their status; anything else that is not a
 * MicroError is an internal error whose detail hides the original message.
 */
export function toGatewayError(error: unknown): MicroError {
  if (error instanceof MicroError) {
    if (error.code === 408) return new MicroError(error.id, 504, error.detail, statusText(504));
    return error;
  }
  const e = (error ?? {}) as FastifyLikeError;
  if (typeof e.code === "string" && e.code.startsWith("FST_") && typeof e.statusCode === "number") {
    if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") return new MicroError("micro.api", 413, "request body is larger than the gateway's limit (--max_body)");
    if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return new MicroError("micro.api", 415, "unsupported content type: send application/json, application/protobuf or application/x-www-form-urlencoded", "Unsupported Media Type");
    }
    if (e.statusCode >= 400 && e.statusCode < 500) return new MicroError("micro.api", e.statusCode, e.message ?? "bad request", statusText(e.statusCode));
  }
  return new MicroError("micro.api", 500, "internal gateway error");
}

/** Answer an upgrade request that will not be upgraded with the JSON error, and close the socket. */
export function rejectUpgrade(socket: Duplex, error: unknown): void {
  const e = toGatewayError(error);
  const body = JSON.stringify(e.toJSON());
  socket.end(
    `HTTP/1.1 ${httpStatus(e)} ${e.status.replace(/[^\x20-\x7e]/g, "")}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
