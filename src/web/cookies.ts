/**
 * Reading and filtering the `Cookie` request header (the dashboard's own cookies: its session and token).
 */
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from "node:http";

/** The value of cookie `name` in a `Cookie` header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A `Cookie` header without the cookies in `names`; undefined when nothing is left. */
export function withoutCookies(header: OutgoingHttpHeader | undefined, names: readonly string[]): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join("; ") : String(header);
  const kept = text
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "" && !names.includes(p.slice(0, Math.max(0, p.indexOf("="))).trim()));
  return kept.length > 0 ? kept.join("; ") : undefined;
}

/** A `Set-Cookie` value for a dashboard cookie: HttpOnly, SameSite=Strict, path /. */
export function setCookie(name: string, value: string): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict`;
}

/** Headers with the cookies in `names` removed from `Cookie` (and the header dropped when none is left). */
export function dropCookies(headers: OutgoingHttpHeaders, names: readonly string[]): OutgoingHttpHeaders {
  const out = { ...headers };
  const cookie = withoutCookies(out.cookie, names);
  if (cookie === undefined) delete out.cookie;
  else out.cookie = cookie;
  return out;
}
