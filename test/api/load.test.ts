/**
 * A bounded load run: 10 000 requests at concurrency 64 through a gateway process in front of a real
 * service process, with no errors and with the gateway's memory stable after warm-up (generous bounds;
 * the figures come from the gateway itself, after a full GC).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { startFixture, stop, testEnv, type Env, type Fixture } from "../cli/support.js";

interface Memory {
  heapUsed: number;
  rss: number;
}

let env: Env;
let remove: () => void;
let service: Fixture;
let gateway: Fixture;
let address: string;

before(async () => {
  ({ env, remove } = testEnv());
  service = (await startFixture("greeter-service", env)).proc;
  const gw = await startFixture("gateway-process", env, [], ["--expose-gc"]);
  gateway = gw.proc;
  address = gw.address;
});

after(async () => {
  await Promise.all([stop(gateway), stop(service)]);
  remove();
});

function memory(): Promise<Memory> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown): void => {
      if ((m as { event?: string }).event !== "memory") return;
      gateway.proc.off("message", onMessage);
      resolve(m as Memory);
    };
    gateway.proc.on("message", onMessage);
    gateway.proc.send("memory");
  });
}

/** `total` POSTs to /greeter/hello, `concurrency` at a time; resolves with the number of failures. */
async function load(total: number, concurrency: number): Promise<{ failures: string[] }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const failures: string[] = [];
  let next = 0;
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const body = JSON.stringify({ name: `n${i}` });
      const req = request({ host, port, agent, method: "POST", path: "/greeter/hello", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.on("end", () => {
          if (res.statusCode !== 200 || text !== `{"message":"Hello n${i}"}`) failures.push(`${res.statusCode} ${text}`);
          resolve();
        });
      });
      req.on("error", (e) => {
        failures.push(e.message);
        resolve();
      });
      req.end(body);
    });
  const worker = async (): Promise<void> => {
    while (next < total) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { failures };
}

test("10 000 requests at concurrency 64: no errors, stable memory", { timeout: 180_000 }, async (t) => {
  const warm = await load(2000, 64);
  assert.deepEqual(warm.failures.slice(0, 5), []);
  const before = await memory();
  const run = await load(10_000, 64);
  assert.deepEqual(run.failures.slice(0, 5), [], `${run.failures.length} failures`);
  const afterRun = await memory();
  const heapGrowth = (afterRun.heapUsed - before.heapUsed) / 2 ** 20;
  const rssGrowth = (afterRun.rss - before.rss) / 2 ** 20;
  t.diagnostic(`heap ${(before.heapUsed / 2 ** 20).toFixed(1)} → ${(afterRun.heapUsed / 2 ** 20).toFixed(1)} MiB, rss ${(before.rss / 2 ** 20).toFixed(1)} → ${(afterRun.rss / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(heapGrowth < 32, `heap grew by ${heapGrowth.toFixed(1)} MiB`);
  assert.ok(rssGrowth < 128, `rss grew by ${rssGrowth.toFixed(1)} MiB`);
});
