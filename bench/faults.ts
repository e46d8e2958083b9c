/**
 * Fault benchmark: the timing side of the fault suite (test/faults/), one table per scenario, all in one run.
 * - hung node (test/faults/hung-node-scenario.ts): three greeter processes on one local registry, 32
 *   closed-loop callers, one node SIGSTOPped for a while and resumed — run with the old behaviour (random
 *   picks, a failed node skipped for 5 s and then open to everyone: the blacklist selector as it was before the
 *   outlier ejection) and with the new selectors. Prints failed calls, timed-out attempts, the longest gap
 *   without a success and what the stopped node received.
 * - registry faults (test/faults/registry-scenario.ts): three greeter nodes, 8 closed-loop workers; the
 *   registry directory removed, garbage written into every node file, a node SIGKILLed and restarted on its
 *   port. The self-healing has no switch, so there is no "before" row: the table gives the bound the old
 *   behaviour had instead (the records came back with the next heartbeat; a dead node's record lived its TTL).
 * - slow frame (test/faults/slow-frame-scenario.ts): dribbling clients (a HEADERS frame, one byte at a time,
 *   never its last byte) while a good client calls; when each connection was closed and the good client's
 *   calls, with frameTimeout at its maximum (the old behaviour: nothing bounds a frame) and at 5 s and 300 ms.
 *
 *   npm run bench:faults                 # everything; the hung node stopped 25 s, the scenario
 *   FAULT_STOP_MS=8000 npm run bench:faults
 *   FAULT_SCENARIOS=registry,slow-frame npm run bench:faults   # a subset (hung-node, registry, slow-frame)
 *   FAULT_RUNS=5                         # runs of each registry scenario (default 3)
 *   FAULT_DRIBBLERS=200 FAULT_DRIBBLE_MS=1000 FAULT_SLOW_WAIT_MS=10000   # slow frame: clients, ms per byte, wait
 */
import { Blacklist } from "../src/runtime/broker/direct/blacklist.js";
import { classify } from "../src/runtime/errors/classify.js";
import { cachedRegistry } from "../src/runtime/registry/cache.js";
import { localRegistry } from "../src/runtime/registry/local/index.js";
import { cacheSelector, latency, leastConn, random, type Selector } from "../src/runtime/selector/index.js";
import { MAX_TIMER } from "../src/runtime/transport/tcp/limits.js";
import { describe, runHungNode, type HungNodeFigures } from "../test/faults/hung-node-scenario.js";
import { runDirectoryRemoved, runGarbageWritten, runNodeKilled, type RecordsLostFigures } from "../test/faults/registry-scenario.js";
import { runDribblers } from "../test/faults/slow-frame-scenario.js";
import { CLUSTER_HEARTBEAT_S, CLUSTER_TTL_S, type LoadFigures } from "../test/faults/support.js";
import { markdownTable } from "./support/table.js";

const stopped = Number(process.env.FAULT_STOP_MS ?? 25_000);
const concurrency = Number(process.env.FAULT_CONCURRENCY ?? 32);
const runs = Number(process.env.FAULT_RUNS ?? 3);
const dribblers = Number(process.env.FAULT_DRIBBLERS ?? 50);
const dribbleMs = Number(process.env.FAULT_DRIBBLE_MS ?? 1000);
const slowWait = Number(process.env.FAULT_SLOW_WAIT_MS ?? 10_000);
const scenarios = new Set((process.env.FAULT_SCENARIOS ?? "hung-node,registry,slow-frame").split(",").map((s) => s.trim()));

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

if (scenarios.has("hung-node")) {
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
}

/** `part` of `whole` as a percentage cell. */
function pct(part: number, whole: number): string {
  return `${((100 * part) / Math.max(1, whole)).toFixed(2)} %`;
}

/** The load columns shared by the registry tables. */
function loadCells(f: LoadFigures): string[] {
  return [String(f.calls), `${f.failed} (${pct(f.failed, f.calls)})`, `${f.longestGap} ms`];
}

if (scenarios.has("registry")) {
  console.log(
    `\nfault benchmark: registry faults, 3 greeter nodes on one local registry directory, 8 closed-loop workers, ` +
      `heartbeat ${CLUSTER_HEARTBEAT_S} s and TTL ${CLUSTER_TTL_S} s (the defaults: 30 s and 90 s), ${runs} runs each`,
  );
  const lost: [string, () => Promise<RecordsLostFigures>][] = [
    ["registry directory removed (rm -rf)", runDirectoryRemoved],
    ["garbage written into every node file", runGarbageWritten],
  ];
  for (const [name, run] of lost) {
    const rows: string[][] = [];
    for (let i = 1; i <= runs; i++) {
      const f = await run();
      rows.push([String(i), ...loadCells(f.load), Number.isFinite(f.rewrittenMs) ? `${f.rewrittenMs} ms` : "not within 5 s", String(f.hit)]);
    }
    console.log(`\n${name} — without self-healing the records came back only with the next heartbeat: up to ${CLUSTER_HEARTBEAT_S} s here (30 s by default) of 404s\n`);
    console.log(markdownTable(["run", "calls", "failed", "longest gap without a success", "all records back after", "node files hit"], rows));
  }
  const rows: string[][] = [];
  for (let i = 1; i <= runs; i++) {
    const f = await runNodeKilled();
    rows.push([
      String(i),
      f.listedAfterKill.includes(f.victimId) ? "no" : "yes",
      `${f.filesAfterKill.length} of 3`,
      Number.isFinite(f.reachRestartedMs) ? `${f.reachRestartedMs} ms` : "not within 3 s",
      `${f.addresses.length} (${new Set(f.addresses).size} addresses)`,
      ...loadCells(f.load),
      f.restartedShare.toFixed(3),
    ]);
  }
  console.log(`\nnode SIGKILLed, restarted on its port — without the pid check its record lived its TTL: ${CLUSTER_TTL_S} s here (90 s by default), and the restarted node got a double share (0.5)\n`);
  console.log(
    markdownTable(
      ["run", "dropped by the first read after the exit", "node files left", "restarted node reached after", "records once restarted", "calls", "failed", "longest gap without a success", "restarted node's share"],
      rows,
    ),
  );
}

if (scenarios.has("slow-frame")) {
  console.log(`\nfault benchmark: slow frame, ${dribblers} clients dribbling a HEADERS frame at one byte per ${dribbleMs} ms after the handshake, a good client calling meanwhile (5 ms between calls)\n`);
  const modes: [string, number, number][] = [
    [`before: no bound on a frame (frameTimeout ${MAX_TIMER} ms)`, MAX_TIMER, slowWait],
    ["frameTimeout 5000 ms (default)", 5000, slowWait],
    ["frameTimeout 300 ms (the test's)", 300, slowWait],
  ];
  const rows: string[][] = [];
  for (const [name, frameTimeout, waitMs] of modes) {
    const f = await runDribblers({ clients: dribblers, everyMs: dribbleMs, frameTimeout, waitMs });
    const t = [...f.closedAfter].sort((a, b) => a - b);
    const at = (q: number) => (t.length > 0 ? `${t[Math.min(t.length - 1, Math.floor(q * t.length))]} ms` : "–");
    rows.push([name, `${t.length}/${f.clients} within ${waitMs} ms`, at(0), at(0.5), t.length > 0 ? `${t[t.length - 1]} ms` : "–", String(f.ok), String(f.failed)]);
  }
  console.log(markdownTable(["server", "dribbling connections closed", "first closed after", "median", "last closed after", "good client: calls ok", "failed"], rows));
}
