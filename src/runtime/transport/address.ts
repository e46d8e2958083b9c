/**
 * The one home of `host:port` addresses: splitting them (`host:port`, `:port` for every interface,
 * `[v6]:port`), the strict parse the tcp transport applies, formatting, and the wildcard hosts. The tcp
 * transport, the server's advertised address, and the gateway's listen and proxy addresses all split here;
 * each keeps its own acceptance rule and error message on top.
 */
import { networkInterfaces } from "node:os";
import { MicroError } from "../errors/index.js";
import { isAddressInUse } from "../errors/classify.js";
import { TRANSPORT_ERROR_ID } from "./index.js";

export interface HostPort {
  /** Empty for "every interface". IPv6 without brackets. */
  host: string;
  port: number;
}

/** What is wrong with an address's shape, if anything. */
export type AddressProblem = "no-port" | "brackets" | "unbracketed-ipv6";

/** An address split at its port colon: the host (IPv6 without brackets) and the port text, unchecked. */
export interface AddressParts {
  host: string;
  port: string;
  /** Set when the address is not `host:port`, `:port` or `[v6]:port`; host and port are then a best guess. */
  problem?: AddressProblem;
}

/**
 * Split `host:port`, `:port` or `[::1]:port` into host and port text without checking the port. A malformed
 * address still yields a best guess (split at the last colon, brackets dropped) with its `problem` named.
 */
export function splitHostPort(address: string): AddressParts {
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close >= 0 && address[close + 1] === ":") return { host: address.slice(1, close), port: address.slice(close + 2) };
  }
  const colon = address.lastIndexOf(":");
  if (colon < 0) return { host: address, port: "", problem: address.startsWith("[") ? "brackets" : "no-port" };
  let host = address.slice(0, colon);
  const port = address.slice(colon + 1);
  if (address.startsWith("[")) {
    if (host.endsWith("]")) host = host.slice(1, -1);
    return { host, port, problem: "brackets" };
  }
  return host.includes(":") ? { host, port, problem: "unbracketed-ipv6" } : { host, port };
}

const PROBLEM_TEXT: Record<AddressProblem, string> = {
  "no-port": "missing :port",
  brackets: "an IPv6 host needs [brackets] followed by :port",
  "unbracketed-ipv6": "put an IPv6 host in [brackets]",
};

/** Parse `host:port`, `:port` or `[::1]:port`; throws a 400 MicroError saying what is wrong. */
export function parseAddress(address: string): HostPort {
  const bad = (why: string) =>
    new MicroError(TRANSPORT_ERROR_ID, 400, `invalid address "${address}": ${why} (expected host:port, :port or [ipv6]:port)`);
  if (typeof address !== "string" || address.length === 0) throw bad("empty");
  const { host, port, problem } = splitHostPort(address);
  if (problem) throw bad(PROBLEM_TEXT[problem]);
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw bad(`port "${port}" is not a number from 0 to 65535`);
  return { host, port: Number(port) };
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether a bound host means "every interface": empty, `0.0.0.0` or `::`. */
export function isWildcardHost(host: string): boolean {
  return host === "" || host === "0.0.0.0" || host === "::";
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

/**
 * The address other processes should use: `advertise` if given, else the bound address, with a wildcard
 * host replaced by this machine's first external IPv4 address (or 127.0.0.1). The host counts as a wildcard
 * when the bound address has one (`0.0.0.0`, `::`, empty) or when `listen`, the address the listener was
 * asked for (a listener reports a wildcard bind as loopback, see {@link dialableHost}), has one.
 */
export function advertiseAddress(bound: string, advertise?: string, listen?: string): string {
  if (advertise) return advertise;
  const { host, port } = splitHostPort(bound);
  if (!isWildcardHost(host) && (listen === undefined || !isWildcardHost(splitHostPort(listen).host))) return bound;
  let ip = "127.0.0.1";
  outer: for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === "IPv4" && !a.internal) {
        ip = a.address;
        break outer;
      }
    }
  }
  return `${ip}:${port}`;
}

/** A listen address whose port may be a range: `host:8000-8010` (`first === last` for a single port). */
export interface HostPortRange {
  /** Empty for "every interface". IPv6 without brackets. */
  host: string;
  first: number;
  last: number;
}

/**
 * Parse a listen address: `host:port`, `:port`, `[v6]:port`, or the same with a port range
 * `host:8000-8010` (Go Micro's form; listen on the first free port of the range). A range needs
 * `1 <= first <= last <= 65535`. `id` is the error id of the caller (default the transport's).
 * @throws MicroError (400) saying what is wrong with the address or the range.
 */
export function parseAddressRange(address: string, id: string = TRANSPORT_ERROR_ID): HostPortRange {
  const bad = (why: string) =>
    new MicroError(id, 400, `invalid address "${address}": ${why} (expected host:port, :port, [ipv6]:port or host:first-last)`);
  if (typeof address !== "string" || address.length === 0) throw bad("empty");
  const { host, port, problem } = splitHostPort(address);
  if (problem) throw bad(PROBLEM_TEXT[problem]);
  const range = /^(\d{1,5})-(\d{1,5})$/.exec(port);
  if (!range) {
    if (port.includes("-")) throw bad(`port range "${port}" must be two numbers, first-last (e.g. 8000-8010)`);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw bad(`port "${port}" is not a number from 0 to 65535`);
    return { host, first: Number(port), last: Number(port) };
  }
  const first = Number(range[1]);
  const last = Number(range[2]);
  if (first < 1 || last > 65535) throw bad(`port range "${port}" must lie within 1-65535 (port 0, "any free port", is not a range)`);
  if (first > last) throw bad(`port range "${port}" is reversed: the first port must not exceed the last`);
  return { host, first, last };
}

/** `host:first-last` (or `host:port` for a single port), with brackets around an IPv6 host. */
export function formatAddressRange(range: HostPortRange): string {
  const ports = range.first === range.last ? `${range.first}` : `${range.first}-${range.last}`;
  return range.host.includes(":") ? `[${range.host}]:${ports}` : `${range.host}:${ports}`;
}

/**
 * The one listen-in-range loop every listener uses (transports, the direct broker through its transport,
 * the gateway): parse `address` with {@link parseAddressRange}, then call `listenOn(host, port)` for each
 * port of the range in order until one does not fail with EADDRINUSE (on the error or its `cause` chain).
 * A single port (or port 0) is tried once and its error passed on unchanged. Any other error stops the loop.
 * @throws MicroError (400) for a bad address; MicroError (500, `id`) naming the range when every port is taken.
 */
export async function listenInRange<T>(
  address: string,
  listenOn: (host: string, port: number) => Promise<T>,
  id: string = TRANSPORT_ERROR_ID,
): Promise<T> {
  const range = parseAddressRange(address, id);
  if (range.first === range.last) return listenOn(range.host, range.first);
  let lastError: unknown;
  for (let port = range.first; port <= range.last; port++) {
    try {
      return await listenOn(range.host, port);
    } catch (error) {
      if (!isAddressInUse(error)) throw error;
      lastError = error;
    }
  }
  const count = range.last - range.first + 1;
  throw new MicroError(id, 500, `cannot listen on ${formatAddressRange(range)}: all ${count} ports of the range are taken (widen the range or free a port)`, undefined, { cause: lastError });
}
