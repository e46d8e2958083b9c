/**
 * Selection strategies: how a {@link Next} picks among the candidate nodes.
 */
import type { NodeRecord, ServiceRecord } from "../registry/index.js";
import type { Next, Strategy } from "./index.js";

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

export type { Next, Strategy };
