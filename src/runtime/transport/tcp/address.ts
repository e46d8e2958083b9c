/**
 * Address forms the tcp transport accepts: `host:port`, `:port` (every interface), `[v6]:port`.
 */
import { MicroError } from "../../errors/index.js";

export interface HostPort {
  /** Empty for "every interface". IPv6 without brackets. */
  host: string;
  port: number;
}

/** Parse `host:port`, `:port` or `[::1]:port`; throws a 400 MicroError saying what is wrong. */
export function parseAddress(address: string): HostPort {
  const bad = (why: string) =>
    new MicroError("micro.transport", 400, `invalid address "${address}": ${why} (expected host:port, :port or [ipv6]:port)`);
  if (typeof address !== "string" || address.length === 0) throw bad("empty");
  let host: string;
  let portText: string;
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0 || address[close + 1] !== ":") throw bad("an IPv6 host needs [brackets] followed by :port");
    host = address.slice(1, close);
    portText = address.slice(close + 2);
  } else {
    const colon = address.lastIndexOf(":");
    if (colon < 0) throw bad("missing :port");
    host = address.slice(0, colon);
    if (host.includes(":")) throw bad("put an IPv6 host in [brackets]");
    portText = address.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`port "${portText}" is not a number from 0 to 65535`);
  return { host, port: Number(portText) };
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The address a client can dial for a listener bound to `host`: a wildcard bind (empty, 0.0.0.0) is
 * reported as 127.0.0.1, `::` as [::1] (a service that others reach from elsewhere advertises its own).
 */
export function dialableHost(host: string): string {
  if (host === "" || host === "0.0.0.0") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host;
}
