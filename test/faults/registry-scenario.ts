/**
 * The registry fault scenarios, shared by the fault test (test/faults/registry.test.ts) and the fault benchmark
 * (bench/faults.ts): three greeter nodes on one local registry directory (heartbeat 60 s, TTL 120 s: see
 * support.ts), a closed-loop caller with 8 workers, and one fault each — the registry directory removed, garbage
 * written into every node file, a node SIGKILLed and restarted on its port. Each creates and disposes its cluster
 * and returns its figures; asserting on them is the caller's business.
 */
import { readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { localRegistry } from "../../src/runtime/registry/local/index.js";
import { escapeName } from "../../src/runtime/registry/local/files.js";
import { cluster, hello, underLoad, within, type Cluster, type LoadFigures } from "./support.js";

/** Milliseconds a lost record may take to come back before the scenario gives up waiting (Infinity then). */
const REWRITE_WAIT_MS = 5000;
/** Milliseconds the caller may take to reach a node restarted on its port (Infinity then). */
const REACH_WAIT_MS = 3000;

export interface RecordsLostFigures {
  load: LoadFigures;
  /** Milliseconds from the fault until every node's record was readable again (Infinity: not within 5 s). */
  rewrittenMs: number;
  /** Node files the fault hit (garbage: the files found; removal: the nodes of the cluster). */
  hit: number;
}

export interface NodeKilledFigures {
  /** Node ids a reader listed right after the victim's exit. */
  listedAfterKill: string[];
  victimId: string;
  victimAddress: string;
  /** The node files left in the service's directory after that read. */
  filesAfterKill: string[];
  /** Milliseconds until the caller reached the node restarted on the victim's port (Infinity: not within 3 s). */
  reachRestartedMs: number;
  restartedAddress: string;
  /** The addresses of the service's records once the node is back. */
  addresses: string[];
  /** The load after the restart. */
  load: LoadFigures;
  /** The restarted node's share of the successful calls of that load. */
  restartedShare: number;
}

/** Whether the registry directory holds a readable record of every node of the cluster. */
async function allRegistered(c: Cluster): Promise<boolean> {
  const registry = localRegistry({ address: c.dir });
  const [greeter] = await registry.getService("greeter");
  await registry.close();
  const ids = new Set(greeter?.nodes.map((n) => n.id) ?? []);
  return c.nodes.every((n) => ids.has(n.id));
}

/** A cluster of three under load, `fault` applied once the load is going; then the time until the records are back. */
async function recordsLost(fault: (c: Cluster) => Promise<number>): Promise<RecordsLostFigures> {
  const c = await cluster(3);
  try {
    let rewrittenMs = Infinity;
    let hit = 0;
    const load = await underLoad(c, async () => {
      hit = await fault(c);
      rewrittenMs = await within(REWRITE_WAIT_MS, "the lost records written again", () => allRegistered(c)).catch(() => Infinity);
    });
    return { load, rewrittenMs, hit };
  } finally {
    await c.dispose();
  }
}

/** `rm -rf` of the registry directory while three healthy nodes serve. */
export function runDirectoryRemoved(): Promise<RecordsLostFigures> {
  return recordsLost(async (c) => {
    // The nodes may rewrite into it while it is being removed (ENOTEMPTY): the fault happened all the same.
    await rm(c.dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 5 }).catch(() => undefined);
    return c.nodes.length;
  });
}

/** Garbage written into every node file while three healthy nodes serve. */
export function runGarbageWritten(): Promise<RecordsLostFigures> {
  return recordsLost(async (c) => {
    const dir = join(c.dir, escapeName("greeter"));
    const files = (await readdir(dir)).filter((f) => f.endsWith(".json"));
    await Promise.all(files.map((f) => writeFile(join(dir, f), "garbage\u0000{not json")));
    return files.length;
  });
}

/** One of three nodes SIGKILLed (no load), read at once; restarted on its port; then load (settle 1200 calls). */
export async function runNodeKilled(): Promise<NodeKilledFigures> {
  const c = await cluster(3);
  const victim = c.nodes[0]!;
  const registry = localRegistry({ address: c.dir });
  try {
    victim.node.kill("SIGKILL");
    await victim.node.exited;
    const listed = async () => ((await registry.getService("greeter"))[0]?.nodes ?? []).map((n) => n.id);
    const listedAfterKill = await listed();
    const filesAfterKill = (await readdir(join(c.dir, escapeName("greeter")))).filter((f) => f.endsWith(".json"));

    const port = victim.address.split(":").pop()!;
    const again = await c.start("restarted", ["--server_address", `127.0.0.1:${port}`]);
    const client = c.caller.client();
    const reachRestartedMs = await within(REACH_WAIT_MS, "the caller reaches the restarted node", async () =>
      (await client.call(hello, { name: "probe" })).message.endsWith("from restarted"),
    ).catch(() => Infinity);
    const addresses = ((await registry.getService("greeter"))[0]?.nodes ?? []).map((n) => n.address);

    const load = await underLoad(c, async () => undefined, { settle: 1200 });
    const restartedShare = (load.byNode.get("restarted") ?? 0) / (load.calls - load.failed);
    return { listedAfterKill, victimId: victim.id, victimAddress: victim.address, filesAfterKill, reachRestartedMs, restartedAddress: again.address, addresses, load, restartedShare };
  } finally {
    await registry.close();
    await c.dispose();
  }
}
