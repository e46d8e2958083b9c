/**
 * Errors that cross the wire as `{ id, code, detail, status }` (Go Micro's shape) and come out on the other
 * side as the same class. `code` is the HTTP status code; `status` its text; `id` names who raised it.
 */

/** The JSON form of a {@link MicroError}. */
export interface MicroErrorJSON {
  id: string;
  code: number;
  detail: string;
  status: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Payload Too Large",
  429: "Too Many Requests",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The text for an HTTP-like status code (`"Not Found"` for 404). */
export function statusText(code: number): string {
  return STATUS_TEXT[code] ?? (code >= 500 ? "Internal Server Error" : "Error");
}

export class MicroError extends Error {
  override readonly name = "MicroError";
  readonly id: string;
  readonly code: number;
  readonly detail: string;
  readonly status: string;

  constructor(id: string, code: number, detail: string, status: string = statusText(code), options?: { cause?: unknown }) {
    super(detail, options);
    this.id = id;
    this.code = code;
    this.detail = detail;
    this.status = status;
  }

  toJSON(): MicroErrorJSON {
    return { id: this.id, code: this.code, detail: this.detail, status: this.status };
  }

  override toString(): string {
    return JSON.stringify(this.toJSON());
  }

  static badRequest(id: string, detail: string): MicroError {
    return new MicroError(id, 400, detail);
  }
  static unauthorized(id: string, detail: string): MicroError {
    return new MicroError(id, 401, detail);
  }
  static forbidden(id: string, detail: string): MicroError {
    return new MicroError(id, 403, detail);
  }
  static notFound(id: string, detail: string): MicroError {
    return new MicroError(id, 404, detail);
  }
  static methodNotAllowed(id: string, detail: string): MicroError {
    return new MicroError(id, 405, detail);
  }
  static timeout(id: string, detail: string): MicroError {
    return new MicroError(id, 408, detail);
  }
  static conflict(id: string, detail: string): MicroError {
    return new MicroError(id, 409, detail);
  }
  static internalServerError(id: string, detail: string): MicroError {
    return new MicroError(id, 500, detail);
  }
}

export const badRequest = MicroError.badRequest;
export const unauthorized = MicroError.unauthorized;
export const forbidden = MicroError.forbidden;
export const notFound = MicroError.notFound;
export const methodNotAllowed = MicroError.methodNotAllowed;
export const timeout = MicroError.timeout;
export const conflict = MicroError.conflict;
export const internalServerError = MicroError.internalServerError;

/**
 * Parse an error from its JSON text (as Go Micro's `errors.Parse`). Text that is not a JSON error
 * becomes an internal error whose detail is the text itself.
 */
export function parse(text: string): MicroError {
  try {
    const value: unknown = JSON.parse(text);
    if (isErrorJSON(value)) return new MicroError(value.id ?? "", value.code ?? 500, value.detail ?? "", value.status || statusText(value.code ?? 500));
  } catch {
    // not JSON: fall through
  }
  return new MicroError("", 500, text);
}

/** Any thrown value as a MicroError: a MicroError stays intact, anything else becomes an internal error. */
export function fromError(error: unknown, id = ""): MicroError {
  if (error instanceof MicroError) return error;
  if (isErrorJSON(error) && typeof (error as MicroErrorJSON).code === "number") {
    const e = error as MicroErrorJSON;
    return new MicroError(e.id ?? id, e.code, e.detail ?? "", e.status || statusText(e.code));
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new MicroError(id, 500, detail, statusText(500), { cause: error });
}

function isErrorJSON(value: unknown): value is Partial<MicroErrorJSON> {
  return typeof value === "object" && value !== null && ("detail" in value || "code" in value) && !Array.isArray(value);
}
