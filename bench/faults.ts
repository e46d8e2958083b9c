/**
 * Fault benchmark: the hung-node case (test/faults/hung-node-scenario.ts) — three greeter processes on one
 * local registry, 32 closed-loop callers, one node SIGSTOPped for a while and resumed — run with the old
 * behaviour (random picks, a failed node skipped for 5 s and then open to everyone: the blacklist selector
 * as it was before the outlier ejection) and with the new selectors, in the same run. Prints failed calls,
 * timed-out attempts, the longest gap without a success and what the stopped node received.
 *
 *   npm run bench:faults                 # 25 s stop, the scenario
 *   FAULT_STOP_MS=8000 npm run bench:faults
 */
import { Blacklist } from "../src/runtime/broker/direct/blacklist.js";
import { classify } from "../src/runtime/errors/classify.js";
import { cachedRegistry } from "../src/runtime/registry/cache.js";
import { localRegistry } from "../src/runtime/registry/local/index.js";
import { cacheSelector, latency, leastConn, random, type Selector } from "../src/runtime/selector/index.js";
import { describe, runHungNode, type HungNodeFigures } from "../test/faults/hung-node-scenario.js";
import { markdownTable } from "./support/table.js";

const stopped = Number(process.env.FAULT_STOP_MS ?? 25_000);
const concurrency = Number(process.env.FAULT_CONCURRENCY ?? 32);

/** The selector before outlier ejection: random among the nodes not blacklisted; a node failure blacklists for 5 s. */
function blacklistSelector(dir: string): Selector {
  const registry = localRegistry({ address: dir });
  const cache = cachedRegistry(registry);
  const blacklist = new Blacklist(5000);
  const key = (service: string, id: string) => `${service}\u0000${id}`;
  return {
    name: "blacklist",
    async select(service) {
      const services = await cache.lookup(service);
      const all = services.flatMap((s) => s.nodes);
      const usable = all.filter((n) => !blacklist.has(key(service, n.id)));
      const pool = usable.length > 0 ? usable : all;
      return () => pool[Math.floor(Math.random() * pool.length)]!;
    },
    mark(service, node, error) {
      if (error === undefined) blacklist.delete(key(service, node.id));
      else if (classify(error).nodeFailure) blacklist.add(key(service, node.id));
    },
    reset(service) {
      blacklist.deletePrefix(`${service}\u0000`);
    },
    async close() {
      await cache.close();
      await registry.close();
    },
  };
}

/** The cache selector with a strategy, over its own local registry client. */
function withStrategy(strategy: typeof random) {
  return (dir: string): Selector => {
    const registry = localRegistry({ address: dir });
    const selector = cacheSelector({ registry, strategy });
    return { ...selector, name: selector.name, close: async () => (await selector.close(), await registry.close()) };
  };
}

const cases: [string, (dir: string) => Selector][] = [
  ["before: random + 5 s blacklist", blacklistSelector],
  ["random + ejection/probe", withStrategy(random)],
  ["leastconn + ejection/probe (default)", withStrategy(leastConn)],
  ["latency + ejection/probe", withStrategy(latency)],
];

console.log(`fault benchmark: hung node (SIGSTOP ${stopped / 1000} s, resumed), 3 nodes, ${concurrency} closed-loop callers, default 5 s request timeout (node ${process.version})\n`);
const rows: string[][] = [];
for (const [name, selector] of cases) {
  const f: HungNodeFigures = await runHungNode({ nodes: 3, concurrency, before: 2000, stopped, after: 3000, selector });
  console.log(`${name}: ${describe(f)}`);
  rows.push([
    name,
    String(f.calls),
    String(f.failed),
    String(f.timedOut),
    `${f.longestGap} ms`,
    String(f.zeroSeconds),
    `${f.stoppedWhileOut} (max ${f.stoppedConcurrentWhileOut} at once)`,
  ]);
}
console.log("\n" + markdownTable(["selector", "calls", "failed", "timed-out attempts", "longest gap without a success", "seconds without a success", "attempts at the stopped node after its first failure"], rows));
