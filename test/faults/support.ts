/**
 * Fault scenarios: a cluster of greeter nodes (real processes on loopback, one local registry directory) and a
 * closed-loop caller that records what the callers saw — calls, failures, the longest time without a success.
 */
import { newService, type Service } from "../../src/index.js";
import { Greeter } from "../fixtures/runtime/greeter.js";
import { startGreeter, tempRegistry, type Fixture } from "../fixtures/runtime/harness.js";

export const hello = { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello };

export interface Node {
  readonly node: Fixture;
  readonly id: string;
  readonly address: string;
  readonly tag: string;
}

export interface Cluster {
  readonly dir: string;
  readonly nodes: Node[];
  readonly caller: Service;
  start(tag: string, extra?: readonly string[]): Promise<Node>;
  dispose(): Promise<void>;
}

/** The cluster's heartbeat (`--register_interval`) and TTL (`--register_ttl`), in seconds. */
export const CLUSTER_HEARTBEAT_S = 60;
export const CLUSTER_TTL_S = 120;

/**
 * `count` greeter nodes on a fresh registry directory with a long heartbeat (`--register_interval 60`, TTL
 * 120 s): whatever brings a lost record back within a scenario is not the heartbeat.
 */
export async function cluster(count: number): Promise<Cluster> {
  const reg = tempRegistry();
  const flags = ["--registry_address", reg.dir, "--register_ttl", String(CLUSTER_TTL_S), "--register_interval", String(CLUSTER_HEARTBEAT_S)];
  const nodes: Node[] = [];
  const all: Fixture[] = [];
  const start = async (tag: string, extra: readonly string[] = []): Promise<Node> => {
    const r = await startGreeter([...flags, ...extra], { NODE_TAG: tag });
    all.push(r.node);
    const node = { ...r, tag };
    nodes.push(node);
    return node;
  };
  await Promise.all(Array.from({ length: count }, (_, i) => start(`n${i}`)));
  const caller = newService({ name: "caller", argv: ["--registry_address", reg.dir], env: {} });
  caller.init();
  return {
    dir: reg.dir,
    nodes,
    caller,
    start,
    async dispose() {
      await caller.stop();
      for (const n of all) n.kill();
      await Promise.all(all.map((n) => n.exited));
      reg.remove();
    },
  };
}

export interface LoadFigures {
  calls: number;
  failed: number;
  /** Longest time in ms without a successful call (from the start, between successes, until the end). */
  longestGap: number;
  /** Successful calls by the tag of the node that answered. */
  byNode: Map<string, number>;
  /** A few failures, for the assertion messages. */
  errors: string[];
}

/**
 * Call greeter from `concurrency` closed-loop workers until `until` resolves (and at least `minCalls` calls
 * completed), running `fault` once the load is going.
 */
export async function underLoad(cluster: Cluster, fault: () => Promise<void>, options: { concurrency?: number; minCalls?: number; settle?: number } = {}): Promise<LoadFigures> {
  const client = cluster.caller.client();
  const figures: LoadFigures = { calls: 0, failed: 0, longestGap: 0, byNode: new Map(), errors: [] };
  let lastSuccess = Date.now();
  let done = false;
  const worker = async (): Promise<void> => {
    while (!done || figures.calls < (options.minCalls ?? 0)) {
      try {
        const rsp = await client.call(hello, { name: "load" });
        const now = Date.now();
        figures.longestGap = Math.max(figures.longestGap, now - lastSuccess);
        lastSuccess = now;
        const tag = rsp.message.split(" from ")[1] ?? "?";
        figures.byNode.set(tag, (figures.byNode.get(tag) ?? 0) + 1);
      } catch (error) {
        figures.failed++;
        if (figures.errors.length < 5) figures.errors.push(String((error as Error).message ?? error));
        await new Promise((r) => setImmediate(r)); // a failure without I/O must not starve the timers
      }
      figures.calls++;
    }
  };
  const workers = Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  try {
    await untilCalls(figures, 200); // the load is going
    await fault();
    const after = figures.calls;
    await untilCalls(figures, after + (options.settle ?? 1000), 1500); // and goes on after the fault
  } finally {
    done = true;
    await workers;
  }
  figures.longestGap = Math.max(figures.longestGap, Date.now() - lastSuccess);
  return figures;
}

/** Resolves once `n` calls completed and at least `minMs` passed (checked every 10 ms, for at most 15 s). */
async function untilCalls(figures: LoadFigures, n: number, minMs = 0): Promise<void> {
  const start = Date.now();
  for (let i = 0; (figures.calls < n || Date.now() - start < minMs) && i < 1500; i++) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Resolves with the ms it took for `check` to hold, checking every 20 ms for at most `ms` (then it rejects:
 * the scenario failed). For conditions no event announces (a file rewritten by another process).
 */
export async function within(ms: number, what: string, check: () => Promise<boolean> | boolean): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

export function report(name: string, figures: LoadFigures, extra: Record<string, unknown> = {}): void {
  const line = { scenario: name, calls: figures.calls, failed: figures.failed, failedPct: +((100 * figures.failed) / Math.max(1, figures.calls)).toFixed(3), longestGapMs: figures.longestGap, byNode: Object.fromEntries(figures.byNode), ...extra };
  process.stdout.write(`fault ${JSON.stringify(line)}\n`);
}
