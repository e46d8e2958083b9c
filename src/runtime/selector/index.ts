/**
 * Node selection (Go Micro's `selector`): looks services up through a cached registry, filters, and picks a
 * node by strategy; nodes marked as failed are skipped for a while.
 */
import type { NodeRecord, ServiceRecord } from "../registry/index.js";

/** Picks the next node; throws a MicroError (`notFound` / `internalServerError`) when none is available. */
export type Next = () => NodeRecord;

/** Builds a picker over the candidate nodes: `random` (default) or `roundRobin`. */
export type Strategy = (services: readonly ServiceRecord[]) => Next;

export type Filter = (services: readonly ServiceRecord[]) => ServiceRecord[];

export interface SelectOptions {
  filters?: readonly Filter[];
  strategy?: Strategy;
}

export interface Selector {
  /** `cache` (default). */
  readonly name: string;
  select(service: string, options?: SelectOptions): Promise<Next>;
  /** Report the outcome of a call to a node: an error of the connection kind puts it aside for a while. */
  mark(service: string, node: NodeRecord, error?: unknown): void;
  /** Forget what is cached and marked for a service. */
  reset(service: string): void;
  close(): Promise<void>;
}

export { cacheSelector, DEFAULT_BLACKLIST_TTL, type CacheSelectorOptions } from "./cache.js";
export { random, roundRobin, newRoundRobin } from "./strategy.js";
