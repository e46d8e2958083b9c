/**
 * What the selector knows about each node of each service: calls in flight and answered (for the
 * `leastconn` and `latency` strategies), and the outlier state machine that replaced the blacklist:
 *
 *   in rotation ──node failure──▶ ejected ──ejection time passed, ONE call let through──▶ probing
 *        ▲                          ▲  │                                                    │
 *        └──────probe answered──────┼──┼────────────────────────────────────────────────────┘
 *                                   └──┴─ probe failed: ejected again, for longer (bounded)
 *   N consecutive refused connections (first failure + failed probes) ──▶ dropped, not even probed, until the
 *   registry announces the node again (a watch event for it, or a lookup giving it another address).
 *
 * Only the probe's outcome moves an ejected node: results of calls sent before the ejection are ignored.
 */
import { classify, isConnectionRefused } from "../errors/classify.js";
import type { NodeRecord } from "../registry/index.js";
import type { NodeStats, Selection } from "./selector.js";

/** Where a node stands. */
export const Standing = { InRotation: 0, Ejected: 1, Dropped: 2 } as const;
export type Standing = (typeof Standing)[keyof typeof Standing];

export interface HealthOptions {
  /** Milliseconds a node is ejected after its first node failure (default 1000); doubles per repeat. */
  ejectionTime: number;
  /** The longest ejection (default 10000). */
  maxEjectionTime: number;
  /** Consecutive refused connections after which a node is dropped until re-announced (default 3). */
  dropAfter: number;
  /** A probe not reported within this many ms is presumed lost, and another one is let through (default 30000). */
  probeLease: number;
  /** A node with calls in flight and no answer for this long (at least; 8× its latency if longer) is stalled (default 250). */
  stallTime: number;
}

/** One node's record; kept per service, by node id. */
export class NodeHealth {
  /** Calls in flight (picked with {@link Selector.pick} and not done yet). */
  outstanding = 0;
  /** When `outstanding` last went from 0 to 1. */
  busySince = 0;
  /** When a call last got an answer (success or an application error). */
  lastAnswer = 0;
  /** Moving average of answered calls' latency (ms); 0 = none yet. */
  latency = 0;
  standing: Standing = Standing.InRotation;
  /** While ejected: when a probe may go. */
  ejectedUntil = 0;
  /** Ejections in a row (the ejection time's exponent); forgotten after a long healthy spell. */
  ejections = 0;
  /** When the node last returned to rotation. */
  returnedAt = 0;
  /** Bumped at each ejection: outcomes of calls picked before it do not count. */
  epoch = 0;
  /** The probe in flight (its ticket's serial), 0 when none. */
  probe = 0;
  probeAt = 0;
  /** Consecutive refused connections counted (the ejecting failure and failed probes). */
  refusals = 0;
  /** The address the node had when dropped: a lookup giving another one re-announces it. */
  droppedAddress = "";

  /** Calls in flight and no answer for a while: avoided by `leastconn` and `latency`. */
  stalled(now: number, stallTime: number): boolean {
    if (this.outstanding === 0) return false;
    const since = this.lastAnswer > this.busySince ? this.lastAnswer : this.busySince;
    return now - since > Math.max(stallTime, 8 * this.latency);
  }
}

let serials = 0;
/** Serials of probe tickets (never 0). */
export const nextSerial = (): number => (serials = (serials + 1) % Number.MAX_SAFE_INTEGER || 1);

/** The node states of one service, and the transitions; also the {@link NodeStats} its strategies read. */
export class ServiceHealth implements NodeStats {
  readonly nodes = new Map<string, NodeHealth>();
  /** Nodes not in rotation (ejected or dropped): 0 lets select take its fast path. */
  aside = 0;

  constructor(
    private readonly options: HealthOptions,
    private readonly onDrop: (node: NodeRecord) => void,
  ) {}

  of(id: string): NodeHealth {
    let h = this.nodes.get(id);
    if (h === undefined) {
      h = new NodeHealth();
      this.nodes.set(id, h);
    }
    return h;
  }

  outstanding(node: NodeRecord): number {
    return this.nodes.get(node.id)?.outstanding ?? 0;
  }

  latency(node: NodeRecord): number {
    return this.nodes.get(node.id)?.latency ?? 0;
  }

  stalled(node: NodeRecord): boolean {
    const h = this.nodes.get(node.id);
    return h !== undefined && h.stalled(Date.now(), this.options.stallTime);
  }

  /** Whether an ejected node may take a probe now. */
  probeDue(h: NodeHealth, now: number): boolean {
    return h.standing === Standing.Ejected && now >= h.ejectedUntil && (h.probe === 0 || now - h.probeAt > this.options.probeLease);
  }

  /** Claim the probe of an ejected node; returns the probe's serial. */
  claimProbe(h: NodeHealth, now: number): number {
    h.probe = nextSerial();
    h.probeAt = now;
    return h.probe;
  }

  /** A call picked now (counted in flight). */
  begin(h: NodeHealth, now: number): void {
    if (h.outstanding++ === 0) h.busySince = now;
  }

  /**
   * The outcome of a call to `node` that was picked in `epoch` (a probe when `probe` ≠ 0), started at `start`
   * (`performance.now()`; 0: not timed), counted in flight when `counted`.
   */
  report(node: NodeRecord, h: NodeHealth, error: unknown, epoch: number, probe: number, start: number, counted: boolean): void {
    const now = Date.now();
    if (counted && h.outstanding > 0) h.outstanding--;
    const current = epoch === h.epoch && (h.standing === Standing.InRotation || (probe !== 0 && probe === h.probe));
    if (error === undefined || !classify(error).nodeFailure) {
      if (error !== undefined && classify(error).kind === "cancelled") {
        // The caller gave up: says nothing about the node, but a lost probe must not hold the slot.
        if (probe !== 0 && probe === h.probe) h.probe = 0;
        return;
      }
      // Answered (a success, or the application's own error): the node is alive.
      h.lastAnswer = now;
      if (start > 0) {
        const took = Math.max(performance.now() - start, 0.001);
        h.latency = h.latency === 0 ? took : h.latency * 0.8 + took * 0.2;
      }
      if (!current && h.standing !== Standing.Dropped) return; // a call sent before the ejection: only the probe decides
      h.refusals = 0;
      if (h.standing !== Standing.InRotation) this.restore(h, now);
      return;
    }
    // A node failure (timeout, unreachable).
    if (!current && h.standing !== Standing.InRotation) return; // already out; a call from before the ejection
    h.refusals = isConnectionRefused(error) ? h.refusals + 1 : 0;
    if (h.refusals >= this.options.dropAfter) {
      this.drop(node, h);
      return;
    }
    this.eject(h, now);
  }

  /** Put a node out of rotation, for longer each time in a row (bounded). */
  eject(h: NodeHealth, now: number): void {
    const { ejectionTime, maxEjectionTime } = this.options;
    // A node that stayed in rotation for a whole maximum ejection time starts over.
    if (h.standing === Standing.InRotation && now - h.returnedAt > maxEjectionTime) h.ejections = 0;
    const time = Math.min(ejectionTime * 2 ** Math.min(h.ejections, 30), maxEjectionTime);
    h.ejections++;
    if (h.standing === Standing.InRotation) this.aside++;
    h.standing = Standing.Ejected;
    h.ejectedUntil = now + time;
    h.epoch++;
    h.probe = 0;
  }

  drop(node: NodeRecord, h: NodeHealth): void {
    if (h.standing === Standing.InRotation) this.aside++;
    h.standing = Standing.Dropped;
    h.epoch++;
    h.probe = 0;
    h.droppedAddress = node.address;
    this.onDrop(node);
  }

  /** Back in rotation (a probe answered, or a dropped node re-announced or answering). */
  restore(h: NodeHealth, now: number): void {
    if (h.standing === Standing.InRotation) return;
    if (h.standing === Standing.Dropped) h.ejections = 0;
    h.standing = Standing.InRotation;
    // Its latency was measured on calls that waited out the fault: measure it afresh (unmeasured nodes get tried).
    h.latency = 0;
    h.epoch++;
    h.probe = 0;
    h.refusals = 0;
    h.returnedAt = now;
    this.aside--;
  }

  /** The registry announced node `id` again: a dropped node is back. */
  announced(id: string): void {
    const h = this.nodes.get(id);
    if (h !== undefined && h.standing === Standing.Dropped) this.restore(h, Date.now());
  }

  /**
   * Forget nodes no longer listed (`listed` are the ids of the latest lookup) that are in rotation and idle, so
   * that node churn (every restart is a new id) does not grow the map. Nodes out of rotation are kept.
   */
  prune(listed: ReadonlySet<string>): void {
    for (const [id, h] of this.nodes) {
      if (!listed.has(id) && h.standing === Standing.InRotation && h.outstanding === 0) this.nodes.delete(id);
    }
  }

  /** The registry removed node `id`: forget it (a node of that id registering later starts afresh). */
  forget(id: string): void {
    const h = this.nodes.get(id);
    if (h === undefined) return;
    if (h.standing !== Standing.InRotation) this.aside--;
    this.nodes.delete(id);
  }
}

/** A {@link Selection} that reports to a {@link ServiceHealth}. */
export class Ticket implements Selection {
  private reported = false;

  constructor(
    readonly node: NodeRecord,
    private readonly service: ServiceHealth,
    private readonly health: NodeHealth,
    private readonly epoch: number,
    private readonly serial: number,
    private readonly start: number,
  ) {}

  get probe(): boolean {
    return this.serial !== 0;
  }

  done(error?: unknown): void {
    if (this.reported) return;
    this.reported = true;
    this.service.report(this.node, this.health, error, this.epoch, this.serial, this.start, true);
  }
}
