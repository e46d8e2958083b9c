/**
 * Node selection (Go Micro's `selector`): looks services up through a cached registry, filters, and picks a
 * node by strategy; nodes that failed are ejected and probed back (see README.md in this folder).
 */
export * from "./selector.js";
export {
  cacheSelector,
  DEFAULT_EJECTION_TIME,
  DEFAULT_MAX_EJECTION_TIME,
  DEFAULT_DROP_AFTER,
  DEFAULT_STALL_TIME,
  type CacheSelectorOptions,
} from "./cache.js";
export { random, roundRobin, newRoundRobin, leastConn, latency } from "./strategy.js";
