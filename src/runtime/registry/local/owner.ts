/**
 * Which process wrote a node file, and whether it still runs. Every record the local registry writes carries
 * the writer's `pid` and `host`; a reader on the same host can then tell at once that a SIGKILLed node is gone
 * (`kill(pid, 0)` fails with ESRCH) instead of serving it until its TTL runs out.
 *
 * `host` is the host name plus, on Linux, the PID namespace (`myhost/pid:[4026531836]`): two containers that
 * share a registry directory (and maybe a host name) never judge each other's process ids. A record from
 * another host, or without a pid (an older writer), is judged by its expiry only.
 */
import { readlinkSync } from "node:fs";
import { hostname } from "node:os";

/** The writer of a record. */
export interface Owner {
  readonly pid: number;
  readonly host: string;
}

/** Milliseconds a liveness answer is reused: a scan or a burst of reads checks each pid once. */
export const LIVENESS_CACHE_MS = 250;

let self: Owner | undefined;

/** This process as the owner of the records it writes. */
export function thisOwner(): Owner {
  if (!self) {
    let namespace = "";
    try {
      namespace = "/" + readlinkSync("/proc/self/ns/pid");
    } catch {
      // not Linux, or /proc not mounted: the host name alone
    }
    self = { pid: process.pid, host: hostname() + namespace };
  }
  return self;
}

/** Remembers, briefly, which processes of this host are gone. */
export class Liveness {
  private readonly checked = new Map<number, { alive: boolean; at: number }>();

  /** False only when the record names a process of this host that no longer exists. */
  alive(owner: Partial<Owner>, now = Date.now()): boolean {
    const me = thisOwner();
    if (owner.pid === undefined || owner.host !== me.host || owner.pid === me.pid) return true;
    const known = this.checked.get(owner.pid);
    if (known && now - known.at < LIVENESS_CACHE_MS) return known.alive;
    const alive = processExists(owner.pid);
    if (this.checked.size > 1000) this.checked.clear();
    this.checked.set(owner.pid, { alive, at: now });
    return alive;
  }
}

/** `kill(pid, 0)`: ESRCH means no such process; EPERM means it exists (another user's). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
