/**
 * Registry faults under load (issue 11, "Outages of healthy services"): three healthy greeter nodes on one
 * local registry directory, a closed-loop caller (8 workers). The registry directory removed, garbage written
 * into every node file: the nodes write their records again on the watch event (their heartbeat is 60 s away),
 * the caller's cache keeps serving the vanished nodes meanwhile — under 1 % of calls fail, no second passes
 * without a success. A node SIGKILLed: its record is dropped by readers at once (not after its 120 s TTL), and
 * a node restarted on its port gets one share, not two. Each scenario prints its figures (`# fault {...}`).
 * The scenarios themselves live in registry-scenario.ts (the fault benchmark runs them too).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runDirectoryRemoved, runGarbageWritten, runNodeKilled, type RecordsLostFigures } from "./registry-scenario.js";
import { report } from "./support.js";

/** The common assertions of a fault that takes the records away from healthy nodes. */
function assertNoOutage(name: string, { load: figures, rewrittenMs }: RecordsLostFigures): void {
  report(name, figures, { rewrittenMs });
  assert.ok(rewrittenMs < 5000, `the records came back on the watch event, not the 60 s heartbeat (${rewrittenMs} ms)`);
  assert.ok(figures.failed / figures.calls < 0.01, `under 1 % of calls failed: ${figures.failed} of ${figures.calls}; e.g. ${figures.errors.join(" | ")}`);
  assert.ok(figures.longestGap < 1000, `no second without a success (longest gap ${figures.longestGap} ms)`);
  assert.equal(figures.byNode.size, 3, `all three nodes served: ${JSON.stringify([...figures.byNode])}`);
}

test("registry directory removed (rm -rf) under load: records rewritten at once, < 1 % failed, no second without a success", { timeout: 20_000 }, async () => {
  assertNoOutage("registry directory removed", await runDirectoryRemoved());
});

test("garbage written into every node file under load: records rewritten at once, < 1 % failed, no second without a success", { timeout: 20_000 }, async () => {
  const f = await runGarbageWritten();
  assert.equal(f.hit, 3);
  assertNoOutage("garbage in every node file", f);
});

test("a SIGKILLed node is dropped by readers at once; restarted on its port it gets one share, not two", { timeout: 20_000 }, async () => {
  const f = await runNodeKilled();
  assert.ok(!f.listedAfterKill.includes(f.victimId), "a reader drops the dead process's record at once (its TTL is 120 s)");
  assert.equal(f.filesAfterKill.length, 2, `the dead node's file is removed: ${f.filesAfterKill}`);
  assert.ok(Number.isFinite(f.reachRestartedMs), "the caller reaches the restarted node within 3000 ms");
  const addresses = f.addresses;
  assert.equal(new Set(addresses).size, addresses.length, `one record per address: ${addresses}`);
  assert.equal(addresses.length, 3);
  assert.ok(addresses.includes(f.restartedAddress) && f.restartedAddress === f.victimAddress);

  const figures = f.load;
  const share = f.restartedShare;
  report("node SIGKILLed, restarted on its port", figures, { restartedShare: +share.toFixed(3) });
  assert.equal(figures.failed, 0);
  // "One share, not two" is the registry's doing and asserted above (one record per address). The share of
  // calls is only printed: the default leastconn selector sends more to a fresh node with nothing in flight,
  // so over a short load it ranges 0.28–0.64 whatever the registry holds.
  assert.ok(share > 0, "the restarted node serves");
});
