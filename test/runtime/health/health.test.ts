/**
 * Health probes with a real service process: `/health/live`, `/health/ready` with a JSON body per check
 * (the service's own and a user check), `Debug.Health` answering the same readiness, and on SIGTERM readiness
 * failing first while an in-flight call still completes. Plus the check timeout, in process.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Health, type RpcClient } from "../../../src/index.js";
import { Greeter } from "../../fixtures/cli/definitions.js";
import { READY_MS, openClient, micro, startFixture, stop, testEnv, type Fixture } from "../../cli/support.js";

async function get(url: string): Promise<{ status: number; body: Record<string, any> }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

/** Poll until `pred` holds for the probe's answer (bounded). */
async function until(url: string, pred: (r: { status: number; body: Record<string, any> }) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await get(url);
    if (pred(r)) return r;
    if (Date.now() > deadline) throw new Error(`timed out; last answer ${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe("health probes (service process)", () => {
  const { env, remove } = testEnv();
  let service: Fixture | undefined;
  let health = "";
  let client: RpcClient;
  let closeClient: (() => Promise<void>) | undefined;

  before(async () => {
    service = (await startFixture("production-service", { ...env, MICRO_HEALTH_ADDRESS: "127.0.0.1:0" }, [], [], READY_MS)).proc;
    health = `http://${String((await service.waitFor((e) => e.event === "ready")).health)}`;
    ({ client, close: closeClient } = await openClient(env));
  });

  after(async () => {
    await closeClient?.();
    await stop(service);
    remove();
  });

  test("live and ready: 200 with a JSON body per check", async () => {
    assert.deepEqual(await get(`${health}/health/live`), { status: 200, body: { status: "live" } });
    const ready = await get(`${health}/health/ready`);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, "ready");
    assert.deepEqual(Object.keys(ready.body.checks).sort(), ["broker", "db", "draining", "server"]);
    assert.equal(ready.body.checks.server.detail, "registered");
    assert.equal(ready.body.checks.db.detail, "connected");
    assert.equal(ready.body.checks.draining.ok, true);
  });

  test("a failing user check: 503 naming it, and Debug.Health (micro health) says the same", async () => {
    service!.proc.send("db-down");
    const r = await until(`${health}/health/ready`, (x) => x.status === 503);
    assert.equal(r.body.status, "not ready");
    assert.deepEqual(r.body.checks.db.ok, false);
    assert.equal(r.body.checks.db.detail, "database unreachable");
    assert.equal(r.body.checks.server.ok, true);
    const cli = await micro(["health", "greeter", "--output", "json"], env);
    assert.equal(cli.code, 1);
    assert.equal((JSON.parse(cli.stdout) as { status: string }[])[0]!.status, "not ready: db");
    service!.proc.send("db-up");
    await until(`${health}/health/ready`, (x) => x.status === 200);
    const ok = await micro(["health", "greeter", "--output", "json"], env);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test("SIGTERM: readiness fails first, while an in-flight call still completes", async () => {
    const slow = client.call({ service: "greeter", endpoint: "Greeter.Slow", method: Greeter.methods.slow }, {}, { timeout: 60_000 });
    await service!.waitFor((e) => e.event === "slow", READY_MS);
    service!.kill("SIGTERM");
    const r = await until(`${health}/health/ready`, (x) => x.status === 503);
    assert.equal(r.body.checks.draining.ok, false);
    assert.equal((await get(`${health}/health/live`)).status, 200, "still live while draining");
    service!.proc.send("release");
    assert.deepEqual(await slow, { message: "slow done" });
    await service!.waitFor((e) => e.event === "stopped", READY_MS);
  });
});

describe("Health (in process)", () => {
  test("a check that does not answer within its timeout fails; false and throws fail; bad checks are refused", async () => {
    const h = new Health();
    h.addCheck("hung", () => new Promise(() => undefined), { timeout: 100 });
    h.addCheck("no", () => false);
    h.addCheck("yes", async () => "fine");
    const r = await h.ready();
    assert.equal(r.status, "not ready");
    assert.deepEqual(r.checks.hung, { ...r.checks.hung, ok: false, detail: "no answer within 100 ms" });
    assert.equal(r.checks.no!.ok, false);
    assert.deepEqual([r.checks.yes!.ok, r.checks.yes!.detail], [true, "fine"]);
    h.removeCheck("hung");
    h.removeCheck("no");
    assert.equal((await h.ready()).status, "ready");
    assert.throws(() => h.addCheck("", () => true), TypeError);
    assert.throws(() => h.addCheck("t", () => true, { timeout: -1 }), RangeError);
  });
});
