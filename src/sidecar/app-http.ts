/**
 * How the sidecar talks to its app over HTTP: the app's base URL, the path an endpoint is forwarded to
 * (`Greeter.Hello` → `POST <app>/Greeter/Hello`, the endpoint's dots as slashes, case kept), and a POST whose
 * answer becomes the reply or a `MicroError` in the gateway's codes: app down → 502, not JSON → 502, too
 * slow → 408 (a 504 at the HTTP edge), an error status → that status with the app's `{id, code, detail,
 * status}` when it sent one. Their id is the app's service name, not `micro.*`: a client retries and ejects
 * nodes only for failures of the runtime, and the sidecar's node is fine when its app is not.
 */
import { safeHeader } from "../api/request.js";
import { MicroError, statusText } from "../runtime/errors/index.js";
import { isJsonObject } from "../runtime/errors/json-object.js";
import type { Metadata } from "../runtime/metadata/index.js";

/** The error id of everything the sidecar raises. */
export const SIDECAR_ID = "micro.sidecar";

/** `host:port` or `http://host:port[/base]` as a base URL without a trailing slash. @throws MicroError 400. */
export function appBaseUrl(address: string): string {
  const text = /^https?:\/\//.test(address) ? address : `http://${address}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw MicroError.badRequest(SIDECAR_ID, `invalid app address "${address}": use host:port or http://host:port`);
  }
  return url.toString().replace(/\/$/, "");
}

/** The path an endpoint is forwarded to: `Greeter.Hello` → `/Greeter/Hello`. */
export function appPath(endpoint: string): string {
  return `/${endpoint.split(".").map(encodeURIComponent).join("/")}`;
}

/** Headers never taken from call metadata (the sidecar sets them, or they frame the request). */
const RESERVED = new Set(["host", "content-length", "content-type", "connection", "transfer-encoding", "keep-alive", "upgrade", "te", "trailer", "expect"]);

/** Call metadata as request headers: keys that are valid header names, values without control characters. */
export function metadataHeaders(metadata: Readonly<Metadata>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (!RESERVED.has(k.toLowerCase()) && safeHeader(k, v)) headers[k] = v;
  return headers;
}

export interface AppRequest {
  /** The error id: the app's service name, so that a caller's client does not take an app failure for a dead sidecar node. */
  id: string;
  /** What is asked, for error messages: `Greeter.Hello`, `message on orders`. */
  what: string;
  url: string;
  body: Uint8Array | string;
  contentType: string;
  headers: Record<string, string>;
  /** Milliseconds the app gets to answer. */
  timeout: number;
  /** Ends the request early (the caller went away). */
  signal?: AbortSignal;
}

/** What the app answered, as text with its status. @throws MicroError 502 when the app cannot be reached, 408 when it is too slow. */
export async function postToApp(req: AppRequest): Promise<{ status: number; text: string }> {
  const timeout = AbortSignal.timeout(req.timeout);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  try {
    const res = await fetch(req.url, { method: "POST", headers: { ...req.headers, "content-type": req.contentType }, body: req.body, signal });
    return { status: res.status, text: await res.text() };
  } catch (error) {
    if (timeout.aborted) throw MicroError.timeout(req.id, `the app did not answer ${req.what} (POST ${req.url}) within ${req.timeout} ms`);
    if (req.signal?.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new MicroError(req.id, 502, `cannot reach the app for ${req.what} at POST ${req.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}; is it running?`);
  }
}

/** An app's error answer as a MicroError: its own `{id, code, detail, status}` when it sent one, else the HTTP status and the text. */
export function appError(appName: string, what: string, status: number, text: string): MicroError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: the text itself is the detail.
  }
  if (isJsonObject(value) && typeof value.code === "number" && typeof value.detail === "string" && value.code >= 400 && value.code <= 599) {
    return new MicroError(typeof value.id === "string" && value.id ? value.id : appName, value.code, value.detail, typeof value.status === "string" && value.status ? value.status : statusText(value.code));
  }
  const code = status >= 400 && status <= 599 ? status : 502;
  const detail = text.trim() ? text.trim().slice(0, 500) : `the app answered ${what} with HTTP ${status}`;
  return new MicroError(appName, code, detail);
}

/** A 2xx answer as a reply message (a JSON object). @throws MicroError 502 for anything else. */
export function appReply(appName: string, what: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new MicroError(appName, 502, `the app answered ${what} with a body that is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (!isJsonObject(value)) throw new MicroError(appName, 502, `the app answered ${what} with ${JSON.stringify(value).slice(0, 80)}; a reply must be a JSON object`);
  return value;
}
