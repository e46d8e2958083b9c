/**
 * Node selection (Go Micro's `selector`): looks services up through a cached registry, filters, and picks a
 * node by strategy; nodes that failed are ejected and probed back (see README.md in this folder).
 */
import type { NodeRecord, ServiceRecord } from "../registry/index.js";

/** Picks the next node; throws a MicroError (`notFound` / `internalServerError`) when none is available. */
export type Next = () => NodeRecord;

/**
 * What the selector knows of a service's nodes, for strategies that weigh them (`leastconn`, `latency`).
 * Counts cover calls picked with {@link Selector.pick}.
 */
export interface NodeStats {
  /** Calls in flight to the node. */
  outstanding(node: NodeRecord): number;
  /** Moving average of the node's answered calls' latency in ms (0: none answered yet). */
  latency(node: NodeRecord): number;
  /** Calls in flight and none answered for a while: the node may be hung. */
  stalled(node: NodeRecord): boolean;
}

/**
 * Builds a picker over the candidate nodes: `random` (default), `roundRobin`, `leastConn`, `latency`.
 * `stats` is given by the selector; strategies that do not weigh nodes ignore it.
 */
export type Strategy = (services: readonly ServiceRecord[], stats?: NodeStats) => Next;

export type Filter = (services: readonly ServiceRecord[]) => ServiceRecord[];

export interface SelectOptions {
  filters?: readonly Filter[];
  strategy?: Strategy;
}

export interface Selector {
  /** `cache` (default). */
  readonly name: string;
  /** A picker over the service's usable nodes; report outcomes with {@link Selector.mark}. */
  select(service: string, options?: SelectOptions): Promise<Next>;
  /**
   * Pick one node for one call and count the call in flight until `done(error?)` reports its outcome (no
   * argument: answered). The client uses this when the selector has it, else `select` and `mark`.
   */
  pick?(service: string, options?: SelectOptions): Promise<Selection>;
  /**
   * Report the outcome of a call to a node picked with `select` (no error: answered): a node failure
   * (timeout, unreachable) takes the node out of rotation; for an ejected node's probe, the outcome decides.
   */
  mark(service: string, node: NodeRecord, error?: unknown): void;
  /** Forget what is cached and marked for a service. */
  reset(service: string): void;
  close(): Promise<void>;
}

/** One pick of a node for one call; `done` reports how it went (once; later calls are ignored). */
export interface Selection {
  readonly node: NodeRecord;
  /** Whether this call is the half-open probe of an ejected node. */
  readonly probe: boolean;
  done(error?: unknown): void;
}
