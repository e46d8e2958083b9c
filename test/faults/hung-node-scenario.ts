/**
 * The hung-node scenario, shared by the fault test (test/faults/hung-node.test.ts) and the fault benchmark
 * (bench/faults.ts): greeter nodes in their own processes on one local registry, a closed-loop client at
 * some concurrency, one node SIGSTOPped for a while (alive for TCP, answering nothing) and then SIGCONTed.
 * Every attempt at a node is seen by a call wrapper, so the figures say which node got which attempt when.
 */
import { classify } from "../../src/runtime/errors/classify.js";
import { newService, type CallWrapper, type Selector } from "../../src/index.js";
import { Greeter } from "../fixtures/runtime/greeter.js";
import { startGreeter, tempRegistry, type Fixture } from "../fixtures/runtime/harness.js";

export interface HungNodeOptions {
  /** Greeter nodes (default 3); the second one is stopped. */
  nodes?: number;
  /** Callers in the closed loop (default 24). */
  concurrency?: number;
  /** Milliseconds of load before the stop (default 1500). */
  before?: number;
  /** Milliseconds the node stays stopped (default 8000). */
  stopped?: number;
  /** Milliseconds of load after SIGCONT (default 3000). */
  after?: number;
  /** The selector, given in code (default: the one `--selector` names, i.e. the default plugin). */
  selector?: (registryDir: string) => Selector;
  /** The client's per-attempt timeout flag (default: the default, 5s). */
  requestTimeout?: string;
}

export interface HungNodeFigures {
  calls: number;
  failed: number;
  /** Attempts that timed out (each was retried elsewhere unless the call failed). */
  timedOut: number;
  /** Longest time without any successful call during the load (ms). */
  longestGap: number;
  /** Whole seconds of the load with no successful call. */
  zeroSeconds: number;
  /** Attempts sent to the stopped node before its first failure came back. */
  stoppedBeforeFailure: number;
  /** Attempts sent to the stopped node after its first failure and before SIGCONT (the probes, if all goes well). */
  stoppedWhileOut: number;
  /** Most attempts in flight at once to the stopped node among those sent after its first failure, before SIGCONT. */
  stoppedConcurrentWhileOut: number;
  /** Attempts the stopped node answered after SIGCONT. */
  answeredAfterResume: number;
}

const hello = { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello };

export async function runHungNode(options: HungNodeOptions = {}): Promise<HungNodeFigures> {
  const count = options.nodes ?? 3;
  const concurrency = options.concurrency ?? 24;
  const reg = tempRegistry();
  const nodes: Fixture[] = [];
  const ids: string[] = [];
  const stoppedId = (): string | undefined => ids[1];
  // Attempts at the stopped node, by start time; in flight count of those started while it is out.
  let stopAt = Infinity;
  let resumeAt = Infinity;
  let firstFailure = Infinity;
  let timedOut = 0;
  let beforeFailure = 0;
  let whileOut = 0;
  let inFlightWhileOut = 0;
  let maxWhileOut = 0;
  let answeredAfterResume = 0;
  const counter: CallWrapper = (next) => async (node, req) => {
    const start = Date.now();
    const mine = node.id === stoppedId();
    const out = mine && start >= firstFailure && start < resumeAt;
    if (mine && start >= stopAt && start < firstFailure) beforeFailure++;
    if (out) {
      whileOut++;
      maxWhileOut = Math.max(maxWhileOut, ++inFlightWhileOut);
    }
    try {
      const rsp = await next(node, req);
      if (mine && Date.now() >= resumeAt) answeredAfterResume++;
      return rsp;
    } catch (error) {
      const c = classify(error);
      if (c.kind === "timeout") timedOut++;
      if (mine && c.nodeFailure && start >= stopAt) firstFailure = Math.min(firstFailure, Date.now());
      throw error;
    } finally {
      if (out) inFlightWhileOut--;
    }
  };
  const caller = newService({
    name: "hung-caller",
    argv: ["--registry_address", reg.dir, ...(options.requestTimeout ? ["--client_request_timeout", options.requestTimeout] : [])],
    env: {},
    handleSignals: false,
    ...(options.selector ? { selector: options.selector(reg.dir) } : {}),
    wrapCall: counter,
  });
  try {
    const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startGreeter(["--registry_address", reg.dir], { NODE_TAG: `n${i}` })));
    for (const s of started) if (s.status === "fulfilled") (nodes.push(s.value.node), ids.push(s.value.id));
    for (const s of started) if (s.status === "rejected") throw s.reason;

    caller.init();
    const client = caller.client();
    // Warm up: every node known and connected.
    for (let i = 0; i < 30; i++) await client.call(hello, { name: "warm" });

    const successes: number[] = [];
    let calls = 0;
    let failed = 0;
    const t0 = Date.now();
    const end = t0 + (options.before ?? 1500) + (options.stopped ?? 8000) + (options.after ?? 3000);
    const worker = async (): Promise<void> => {
      while (Date.now() < end) {
        calls++;
        try {
          await client.call(hello, { name: "load" });
          successes.push(Date.now());
        } catch {
          failed++;
        }
      }
    };
    const fault = (async () => {
      await sleep(options.before ?? 1500);
      stopAt = Date.now();
      nodes[1]!.kill("SIGSTOP");
      await sleep(options.stopped ?? 8000);
      resumeAt = Date.now();
      nodes[1]!.kill("SIGCONT");
    })();
    await Promise.all([fault, ...Array.from({ length: concurrency }, worker)]);
    const finished = Date.now();

    let longestGap = 0;
    let last = t0;
    const perSecond = new Array<number>(Math.ceil((finished - t0) / 1000)).fill(0);
    for (const at of successes.sort((a, b) => a - b)) {
      longestGap = Math.max(longestGap, at - last);
      last = at;
      perSecond[Math.min(perSecond.length - 1, Math.floor((at - t0) / 1000))]!++;
    }
    longestGap = Math.max(longestGap, finished - last);
    // The last bucket may be a sliver of a second: only whole seconds count.
    const whole = Math.floor((finished - t0) / 1000);
    return {
      calls,
      failed,
      timedOut,
      longestGap,
      zeroSeconds: perSecond.slice(0, whole).filter((n) => n === 0).length,
      stoppedBeforeFailure: beforeFailure,
      stoppedWhileOut: whileOut,
      stoppedConcurrentWhileOut: maxWhileOut,
      answeredAfterResume,
    };
  } finally {
    for (const n of nodes) n.kill("SIGCONT");
    await caller.stop().catch(() => undefined);
    for (const n of nodes) n.kill("SIGKILL");
    await Promise.all(nodes.map((n) => n.exited));
    reg.remove();
  }
}

/** The figures as one line. */
export function describe(f: HungNodeFigures): string {
  return (
    `calls ${f.calls}, failed ${f.failed}, timed-out attempts ${f.timedOut}, longest gap without a success ${f.longestGap} ms, ` +
    `seconds without a success ${f.zeroSeconds}; stopped node: ${f.stoppedBeforeFailure} attempts before its first failure, ` +
    `${f.stoppedWhileOut} after it until SIGCONT (at most ${f.stoppedConcurrentWhileOut} at once), ${f.answeredAfterResume} answered after SIGCONT`
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
