/**
 * Selection strategies: how a {@link Next} picks among the candidate nodes.
 */
import type { NodeRecord, ServiceRecord } from "../registry/index.js";
import type { Next, NodeStats, Strategy } from "./selector.js";

/** Every node of every version, in a stable order (version, then node id). */
export function nodesOf(services: readonly ServiceRecord[]): NodeRecord[] {
  const nodes: NodeRecord[] = [];
  for (const service of services) nodes.push(...service.nodes);
  return nodes;
}

/** Each pick is a uniformly random node (the default: spreads load without shared state). */
export const random: Strategy = (services) => {
  const nodes = nodesOf(services);
  return () => {
    if (nodes.length === 0) throw new RangeError("random: no nodes to pick from");
    return nodes[Math.floor(Math.random() * nodes.length)];
  };
};

/**
 * A round-robin strategy with its own counters: successive picks — within one `Next` and across
 * `select` calls for the same service — cycle through the nodes in a stable order (sorted by id).
 */
export function newRoundRobin(): Strategy {
  const counters = new Map<string, number>();
  return (services) => {
    const nodes = [...nodesOf(services)].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const key = services.map((s) => s.name).filter((n, i, all) => all.indexOf(n) === i).join(",");
    return () => {
      if (nodes.length === 0) throw new RangeError("roundRobin: no nodes to pick from");
      const count = counters.get(key) ?? Math.floor(Math.random() * nodes.length); // random start spreads many clients
      counters.set(key, (count + 1) % Number.MAX_SAFE_INTEGER);
      return nodes[count % nodes.length];
    };
  };
}

/** Round robin shared by everything that uses this value (see {@link newRoundRobin} for private counters). */
export const roundRobin: Strategy = newRoundRobin();

/**
 * The node with the least score (random among equals), nodes that are stalled (calls in flight, none answered
 * for a while) last. Without stats (a caller that gives none) every node scores the same: random.
 */
function leastBy(name: string, scorer: (stats: NodeStats, nodes: readonly NodeRecord[]) => (node: NodeRecord) => number): Strategy {
  return (services, stats) => {
    const nodes = nodesOf(services);
    return () => {
      if (nodes.length === 0) throw new RangeError(`${name}: no nodes to pick from`);
      if (stats === undefined || nodes.length === 1) return nodes[Math.floor(Math.random() * nodes.length)];
      let best = nodes[0];
      let bestScore = Infinity;
      let ties = 0;
      const score = scorer(stats, nodes);
      for (let i = 0; i < nodes.length; i++) {
        const node = nodes[i];
        const s = (stats.stalled(node) ? 1e12 : 0) + score(node);
        if (s < bestScore) {
          best = node;
          bestScore = s;
          ties = 1;
        } else if (s === bestScore && Math.random() * ++ties < 1) {
          best = node; // reservoir sampling: each of the tied nodes equally likely
        }
      }
      return best;
    };
  };
}

/**
 * Least outstanding requests (Envoy's LEAST_REQUEST, `--selector leastconn`): the node with the fewest calls in
 * flight from this client. A hung node keeps its calls and so stops being picked; a slow one gets fewer calls.
 */
export const leastConn: Strategy = leastBy("leastConn", (stats) => (node) => stats.outstanding(node));

/**
 * Latency-aware (Moleculer's `latency`, Finagle's least-loaded EWMA; `--selector latency`): the node with the
 * least moving-average latency × (calls in flight + 1). A node not measured yet scores as the fastest one, so
 * it gets tried.
 */
export const latency: Strategy = leastBy("latency", (stats, nodes) => {
  let fastest = Infinity;
  for (const node of nodes) {
    const l = stats.latency(node);
    if (l > 0 && l < fastest) fastest = l;
  }
  if (fastest === Infinity) fastest = 1;
  return (node) => (stats.latency(node) || fastest) * (stats.outstanding(node) + 1);
});

export type { Next, Strategy };
