/**
 * Nodes put aside after a connection failure, each until a deadline: calls skip them meanwhile, and they
 * come back by themselves (a restarted node, a blip in the network) without anyone clearing them.
 */
import { MicroError } from "../errors/index.js";

/** Socket error codes that mean the node could not be reached (as opposed to the call failing there). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
]);

/**
 * Whether an error says the node was unreachable: a MicroError 503 or 408 raised by the transport
 * (`micro.transport`), or a plain socket error (ECONNREFUSED, ECONNRESET, …), also when wrapped as the
 * `cause` of another error. Application errors never put a node aside.
 */
export function isConnectionError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (e instanceof MicroError) {
      if (e.id === "micro.transport" && (e.code === 503 || e.code === 408)) return true;
    } else if (typeof e === "object" && "code" in e && NETWORK_CODES.has(String((e as { code: unknown }).code))) {
      return true;
    }
    e = typeof e === "object" && e !== null && "cause" in e ? (e as { cause: unknown }).cause : undefined;
  }
  return false;
}

export class Blacklist {
  /** key → epoch ms until which the node is put aside. */
  private readonly until = new Map<string, number>();

  constructor(private readonly ttl: number) {}

  add(key: string): void {
    this.until.set(key, Date.now() + this.ttl);
  }

  delete(key: string): void {
    this.until.delete(key);
  }

  has(key: string): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.until.delete(key);
    return false;
  }

  /** Forget every key that starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of this.until.keys()) if (key.startsWith(prefix)) this.until.delete(key);
  }

  clear(): void {
    this.until.clear();
  }
}
