/**
 * A hung node (SIGSTOP: alive for TCP, answering nothing) must not stall its healthy peers' callers: with the
 * default selector, no whole second passes without a successful call, the stopped node gets only one probe at
 * a time once its first call failed, and it serves again after SIGCONT. Three greeter processes on one local
 * registry, 24 closed-loop callers, the node stopped for 8 s; about 14 s in all (a 20 s timeout).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { describe, runHungNode } from "./hung-node-scenario.js";

test("a SIGSTOPped node is ejected and probed; its peers keep answering; it returns after SIGCONT", { timeout: 20_000 }, async () => {
  const f = await runHungNode({ nodes: 3, concurrency: 24, before: 1000, stopped: 8000, after: 1500 });
  console.log(`hung node (SIGSTOP 8 s, 3 nodes, 24 callers): ${describe(f)}`);
  assert.equal(f.failed, 0, "no call failed (timed-out attempts are retried on another node)");
  assert.equal(f.zeroSeconds, 0, `no whole second without a successful call (longest gap ${f.longestGap} ms)`);
  assert.ok(f.longestGap < 1000, `longest gap without a success ${f.longestGap} ms`);
  assert.ok(f.stoppedConcurrentWhileOut <= 1, `once out, the stopped node gets one probe at a time (saw ${f.stoppedConcurrentWhileOut} at once)`);
  assert.ok(f.stoppedWhileOut <= 3, `only probes reach the stopped node while it is out (saw ${f.stoppedWhileOut} attempts)`);
  assert.ok(f.answeredAfterResume > 0, "the node serves again after SIGCONT");
});
