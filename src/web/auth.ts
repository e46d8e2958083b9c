/**
 * Who may use the dashboard (`micro web --auth token|basic`): the one place that reads the credential of a
 * request. `none` lets everyone in (the default, for loopback); `token` wants `Authorization: Bearer <token>`
 * or the cookie a browser gets from `/?token=<token>`; `basic` wants HTTP Basic with the configured user and
 * password. Another scheme (JWT) is another `kind` here.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { MicroError } from "../runtime/errors/index.js";
import { cookieValue, dropCookies } from "./cookies.js";

/** How requests prove who they are. */
export type AuthKind = "none" | "token" | "basic";
/** Every {@link AuthKind}. */
export const authKinds: readonly AuthKind[] = ["none", "token", "basic"];

/** The cookie a browser keeps the token in (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = "micro_web_token";

/** How `micro web --auth` is configured. */
export interface AuthOptions {
  /** Default `none`. */
  kind?: AuthKind;
  /** `token`: the token (generated when absent: see {@link Auth.token}). */
  token?: string;
  /** `basic`: `user:password` (required). */
  basic?: string;
}

/** The credential check of one dashboard. */
export interface Auth {
  readonly kind: AuthKind;
  /** The token in use (`token` only). */
  readonly token?: string;
  /** Whether the request carries the credential (always true for `none`). */
  allows(headers: IncomingHttpHeaders): boolean;
  /** The token a `?token=` query names, when it is the right one (`token` only). */
  acceptsQueryToken(value: string | undefined): boolean;
  /** Headers of a 401 answer (a Basic challenge for `basic`). */
  challenge(): Record<string, string>;
  /** Request headers without the dashboard's credential, for forwarding to a web app. */
  strip(headers: OutgoingHttpHeaders): OutgoingHttpHeaders;
}

/** Equal strings, compared in constant time. */
function same(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

function bearer(headers: IncomingHttpHeaders): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "");
  return m ? m[1]!.trim() : undefined;
}

function basicPair(headers: IncomingHttpHeaders): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(headers.authorization ?? "");
  return m ? Buffer.from(m[1]!, "base64").toString("utf8") : undefined;
}

/**
 * The credential check for `options`.
 * @throws MicroError 400 for a `basic` without `user:password`, or an unknown kind
 */
export function newAuth(options: AuthOptions = {}): Auth {
  const kind = options.kind ?? "none";
  if (!authKinds.includes(kind)) throw MicroError.badRequest("micro.web", `unknown auth "${kind}": use token or basic`);
  if (kind === "basic" && !/^[^:]+:.+$/.test(options.basic ?? "")) {
    throw MicroError.badRequest("micro.web", "basic auth needs user:password (--auth_basic or MICRO_WEB_AUTH_BASIC)");
  }
  const token = kind === "token" ? options.token || randomBytes(24).toString("base64url") : undefined;
  const strip = (headers: OutgoingHttpHeaders): OutgoingHttpHeaders => {
    const out = dropCookies(headers, [TOKEN_COOKIE]);
    if (kind !== "none") delete out.authorization;
    return out;
  };
  return {
    kind,
    token,
    allows(headers) {
      if (kind === "none") return true;
      if (kind === "token") {
        const given = bearer(headers) ?? cookieValue(headers.cookie, TOKEN_COOKIE);
        return given !== undefined && same(given, token!);
      }
      const pair = basicPair(headers);
      return pair !== undefined && same(pair, options.basic!);
    },
    acceptsQueryToken: (value) => kind === "token" && value !== undefined && same(value, token!),
    challenge: (): Record<string, string> => (kind === "basic" ? { "www-authenticate": 'Basic realm="micro web", charset="UTF-8"' } : {}),
    strip,
  };
}
