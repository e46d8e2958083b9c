/**
 * Cross-site protection for the dashboard's API: a request from a browser page must come from the dashboard's
 * own origin (the `Origin` header, when sent, names the `Host` it was sent to), the `Host` must be a loopback
 * name when the dashboard listens on loopback (so a DNS-rebound name cannot reach it), and a call, stream or
 * publish from a browser session carries that session's CSRF token (`X-CSRF-Token`, or `csrf=` on a
 * WebSocket URL). The token is an HMAC of the session cookie, so the server keeps no table.
 *
 * Scripts that send neither a session cookie nor an `Origin` (curl, programs) need no CSRF token: a browser
 * always sends `Origin` with a cross-site POST or WebSocket, so such a request cannot come from another site.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { MicroError } from "../runtime/errors/index.js";
import { cookieValue } from "./cookies.js";

/** The session cookie (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "micro_web_session";
/** The request header that carries the CSRF token. */
export const CSRF_HEADER = "x-csrf-token";

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** The hostname of a `Host` header (`[::1]:8082` → `[::1]`). */
function hostname(host: string): string {
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":", 1)[0]!;
}

export interface Guard {
  /** A new session id, for a browser that has none. */
  newSession(): string;
  /** The CSRF token of a session. */
  csrfToken(session: string): string;
  /**
   * Check the `Host` of any request (page, API, app): a loopback name when the dashboard listens on loopback.
   * @throws MicroError 403
   */
  checkHost(headers: IncomingHttpHeaders): void;
  /**
   * Check a request's origin and, when it is `unsafe`, its CSRF token. `unsafe`: it calls, streams or publishes (then a browser session needs its CSRF token).
   * @throws MicroError 403 saying what was refused
   */
  check(headers: IncomingHttpHeaders, unsafe: boolean, queryToken?: string): void;
}

/** The guard of a dashboard; `loopback`: it listens on a loopback address. */
export function newGuard(loopback: boolean): Guard {
  const secret = randomBytes(32);
  const csrfToken = (session: string): string => createHmac("sha256", secret).update(session).digest("base64url");
  const refuse = (detail: string): never => {
    throw new MicroError("micro.web", 403, detail);
  };
  return {
    newSession: () => randomBytes(18).toString("base64url"),
    csrfToken,
    checkHost(headers) {
      const host = headers.host ?? "";
      if (loopback && !LOOPBACK_NAMES.has(hostname(host).toLowerCase())) refuse(`host ${JSON.stringify(host)} is not this dashboard's: it listens on loopback; use localhost or 127.0.0.1`);
    },
    check(headers, unsafe, queryToken) {
      const host = headers.host ?? "";
      const origin = headers.origin;
      if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) refuse(`cross-site request from ${JSON.stringify(origin)} refused`);
      if (!unsafe) return;
      const session = cookieValue(headers.cookie, SESSION_COOKIE);
      if (session === undefined && origin === undefined) return;
      const given = queryToken ?? (headers[CSRF_HEADER] as string | undefined);
      if (session === undefined || given === undefined) refuse("a browser request needs the session's CSRF token (GET /api/session, then send it as X-CSRF-Token)");
      const want = Buffer.from(csrfToken(session!));
      const got = Buffer.from(given!);
      if (want.length !== got.length || !timingSafeEqual(want, got)) refuse("the CSRF token does not match this session; reload the page");
    },
  };
}
