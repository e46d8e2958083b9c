/**
 * Metrics end to end: service processes with `--metrics_address` (wrappers installed by the service), a
 * direct read of `/metrics`, and Debian's Prometheus server scraping the service on loopback until its HTTP
 * API returns exactly the request count this test produced. Plus the broker side in process.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry as PromRegistry } from "prom-client";
import { instrumentBroker, memoryBroker, metricsSubscriberWrapper, newClient, newServer, registerSubscriber, memoryRegistry, tcpTransport, type RpcClient } from "../../../src/index.js";
import { Greeter } from "../../fixtures/cli/definitions.js";
import { READY_MS, openClient, startFixture, startGateway, stop, testEnv, Fixture } from "../../cli/support.js";

const N = 7;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Poll `fn` until it returns a value (not undefined), at most `ms`; the last failure is in the error. */
async function poll<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The value of a metric line `name{labels} value` in Prometheus text, by labels it must contain. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("metrics: --metrics_address, /metrics, scraped by Prometheus", () => {
  const { env, remove } = testEnv();
  const dir = mkdtempSync(join(tmpdir(), "micro-prometheus-"));
  let greeter: Fixture | undefined;
  let front: Fixture | undefined;
  let prometheus: Fixture | undefined;
  let greeterMetrics = "";
  let frontMetrics = "";
  let client: RpcClient;
  let closeClient: (() => Promise<void>) | undefined;

  before(async () => {
    const g = await startFixture("production-service", { ...env, MICRO_METRICS_ADDRESS: "127.0.0.1:0" }, [], [], READY_MS);
    greeter = g.proc;
    greeterMetrics = String((await greeter.waitFor((e) => e.event === "ready")).metrics);
    const f = await startFixture("production-service", { ...env, SERVICE_NAME: "front", ONWARD: "greeter" }, ["--metrics_address", "127.0.0.1:0"], [], READY_MS);
    front = f.proc;
    frontMetrics = String((await front.waitFor((e) => e.event === "ready")).metrics);
    ({ client, close: closeClient } = await openClient(env));
  });

  after(async () => {
    await closeClient?.();
    await Promise.all([stop(greeter), stop(front), stop(prometheus)]);
    remove();
    rmSync(dir, { recursive: true, force: true });
  });

  test("N calls are counted on /metrics (server, client, pool, registry lookups) and Prometheus's query returns exactly N", async () => {
    for (let i = 0; i < N - 1; i++) await client.call({ service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello }, { name: `n${i}` });
    // The Nth goes through front, which calls greeter: front's client side is measured too.
    await client.call({ service: "front", endpoint: "Greeter.Hello", method: Greeter.methods.hello }, { name: "onward" });

    const text = await (await fetch(`http://${greeterMetrics}/metrics`)).text();
    assert.equal(sample(text, "micro_server_requests_total", { service: "greeter", endpoint: "Greeter.Hello", code: "200" }), N);
    assert.equal(sample(text, "micro_server_request_duration_seconds_count", { service: "greeter", endpoint: "Greeter.Hello" }), N);
    assert.equal(sample(text, "micro_server_requests_in_flight", { service: "greeter", endpoint: "Greeter.Hello" }), 0);
    assert.ok(text.includes("process_cpu_user_seconds_total"), "Node's process metrics are served too");

    const frontText = await (await fetch(`http://${frontMetrics}/metrics`)).text();
    assert.equal(sample(frontText, "micro_client_requests_total", { service: "greeter", endpoint: "Greeter.Hello", code: "200" }), 1);
    assert.ok((sample(frontText, "micro_registry_lookups_total", { service: "greeter", result: "ok" }) ?? 0) >= 1, frontText);
    assert.ok((sample(frontText, "micro_client_pool_connections", {}) ?? 0) >= 1, "front holds a pooled connection to greeter");

    const port = await freePort();
    const config = join(dir, "prometheus.yml");
    writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: micro\n    static_configs:\n      - targets: ["${greeterMetrics}"]\n`);
    prometheus = new Fixture(
      spawn("/usr/bin/prometheus", [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] }),
    );
    const query = encodeURIComponent('micro_server_requests_total{service="greeter",endpoint="Greeter.Hello",code="200"}');
    const value = await poll("Prometheus to scrape the service", async () => {
      const r = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${query}`)).json()) as { data?: { result?: { value: [number, string] }[] } };
      const v = r.data?.result?.[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    });
    assert.equal(value, N);
  });

  test("the gateway with --metrics_address counts HTTP requests by route and status", async () => {
    const gw = await startGateway(env, ["--metrics_address", "127.0.0.1:0"], READY_MS);
    try {
      const metrics = String((await gw.proc.waitFor((e) => e.event === "listening")).metrics);
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${gw.url}/greeter/greeter/hello`, { method: "POST", body: '{"name":"gw"}', headers: { "content-type": "application/json" } });
        assert.equal(r.status, 200);
      }
      assert.equal((await fetch(`${gw.url}/nosuch/thing/here`, { method: "POST", body: "{}" })).status >= 400, true);
      const text = await (await fetch(`http://${metrics}/metrics`)).text();
      assert.equal(sample(text, "micro_http_requests_total", { method: "POST", route: "greeter Greeter.Hello", status: "200" }), 3, text);
      assert.equal(sample(text, "micro_http_request_duration_seconds_count", { method: "POST", route: "greeter Greeter.Hello" }), 3);
      assert.equal(sample(text, "micro_http_requests_total", { method: "POST", route: "unmatched" }), 1);
    } finally {
      await stop(gw.proc);
    }
  });
});

describe("broker metrics (in process)", () => {
  test("publishes and deliveries are counted by topic and code", async () => {
    const register = new PromRegistry();
    const broker = instrumentBroker(memoryBroker(), { register });
    const server = newServer({ name: "sub", deps: { registry: memoryRegistry(), transport: tcpTransport(), broker }, subscriberWrappers: [metricsSubscriberWrapper({ register })] });
    const got: unknown[] = [];
    registerSubscriber<{ n: number }>("orders", server, (e) => {
      if (e.message.n === 2) throw new Error("refused");
      got.push(e.message);
    });
    await server.start();
    const client = newClient({ deps: { selector: undefined as never, transport: tcpTransport(), broker } });
    try {
      for (const n of [1, 2, 3]) await client.publish("orders", { n }).catch(() => undefined);
      await poll("the deliveries", async () => (got.length === 2 ? true : undefined), 10_000);
      const text = await register.metrics();
      // The memory broker tells the publisher when a subscriber fails: that publish counts as failed.
      assert.equal(sample(text, "micro_broker_publishes_total", { topic: "orders", code: "200" }), 2, text);
      assert.equal(sample(text, "micro_broker_publishes_total", { topic: "orders", code: "500" }), 1, text);
      assert.equal(sample(text, "micro_broker_deliveries_total", { topic: "orders", code: "200" }), 2);
      assert.equal(sample(text, "micro_broker_deliveries_total", { topic: "orders", code: "500" }), 1);
      assert.equal(sample(text, "micro_broker_delivery_duration_seconds_count", { topic: "orders" }), 3);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
