/**
 * Gateway benchmark: the same greeter call through `micro api` (HTTP/JSON → gateway → RPC) and as a direct
 * RPC from a runtime client, measured in the same run. The service, the gateway and the reference servers
 * (bench/gateway-floor.ts: a bare node:http server, and a bare node:http → RPC relay) each run in their own
 * process; the load comes from this one, over one keep-alive connection per loop with the lean client in
 * bench/http-load.ts (the direct RPC uses the runtime client). Concurrency 1 (latency) and 64
 * (throughput). The modes are interleaved, BENCH_ROUNDS rounds (default 3); the table shows the median of
 * the rounds, ratio (gateway / direct) first.
 *
 *   npm run bench:gateway        # BENCH_SECONDS=2 per measurement, BENCH_ROUNDS=3
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jsonTarget } from "../src/runtime/target/index.js";
import { newClient, readConfig, resolvePlugins } from "../src/index.js";
import { HttpConnection, jsonPost } from "./http-load.js";
import { measure, type LoadResult } from "./support/load.js";
import { startReadyRecord, stopAll } from "./support/process.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const registryDir = mkdtempSync(join(tmpdir(), "micro-bench-gateway-"));
const env = { ...process.env, MICRO_REGISTRY: "local", MICRO_REGISTRY_ADDRESS: registryDir, MICRO_LOG_LEVEL: "warn" };
const children: ChildProcess[] = [];

/** `host:port` → HTTP connections for each loop (64 at most), posting the greeter request. */
async function httpLoad(address: string, body: string): Promise<{ call: (loop: number) => Promise<void>; close(): void }> {
  const i = address.lastIndexOf(":");
  const connections = Array.from({ length: 64 }, () => new HttpConnection(address.slice(0, i), Number(address.slice(i + 1)), jsonPost(address, "/greeter/hello", body)));
  await Promise.all(connections.map((c) => c.ready));
  return {
    call: async (loop) => {
      const status = await connections[loop]!.send();
      if (status !== 200) throw new Error(`${address} answered ${status}`);
    },
    close: () => connections.forEach((c) => c.close()),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

try {
  const start = (file: string) => startReadyRecord(children, file, import.meta.url, [], env);
  await start("../test/fixtures/cli/greeter-service.js");
  const gatewayAddress = (await start("../test/fixtures/cli/gateway-process.js")).address!;
  const floor = await start("./gateway-floor.js");

  const plugins = await resolvePlugins(readConfig([], env));
  const client = newClient({ deps: { selector: plugins.selector, transport: plugins.transport, broker: plugins.broker } });
  const target = jsonTarget("greeter", "Greeter.Hello");
  const body = JSON.stringify({ name: "bench" });
  const loads = [await httpLoad(gatewayAddress, body), await httpLoad(floor.relay!, body), await httpLoad(floor.http!, body)];
  const modes: { name: string; call: (loop: number) => Promise<unknown> }[] = [
    { name: "direct rpc", call: () => client.call(target, { name: "bench" }, { contentType: "application/json" }) },
    { name: "gateway", call: loads[0]!.call },
    { name: "relay floor", call: loads[1]!.call },
    { name: "http floor", call: loads[2]!.call },
  ];

  const results = new Map<string, LoadResult[]>();
  for (let round = 0; round < rounds; round++) {
    for (const c of [1, 64]) {
      for (const m of modes) {
        const key = `${m.name}@${c}`;
        results.set(key, [...(results.get(key) ?? []), await measure(m.call, c, { seconds })]);
      }
    }
  }
  const med = (name: string, c: number): LoadResult => {
    const rs = results.get(`${name}@${c}`)!;
    return { throughput: median(rs.map((r) => r.throughput)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)) };
  };
  const fmt = (n: number, d = 3): string => n.toFixed(d);
  console.log(`gateway vs direct RPC, median of ${rounds} interleaved rounds, ${seconds}s per measurement (node ${process.version})`);
  console.log("service, gateway and floors in their own processes; HTTP load: lean keep-alive client (bench/http-load.ts)\n");
  console.log("ratio                      conc   p50      p99      req/s");
  for (const [label, a, b] of [["gateway / direct", "gateway", "direct rpc"], ["relay floor / direct", "relay floor", "direct rpc"], ["gateway / relay floor", "gateway", "relay floor"]] as const) {
    for (const c of [1, 64]) {
      const x = med(a, c);
      const y = med(b, c);
      console.log(`${label.padEnd(26)} ${String(c).padEnd(6)} ${fmt(x.p50 / y.p50, 2).padEnd(8)} ${fmt(x.p99 / y.p99, 2).padEnd(8)} ${fmt(x.throughput / y.throughput, 2)}`);
    }
  }
  const p50Ratios = (c: number): string => {
    const g = results.get(`gateway@${c}`)!;
    const d = results.get(`direct rpc@${c}`)!;
    return g.map((r, i) => fmt(r.p50 / d[i]!.p50, 2)).join(", ");
  };
  console.log(`(gateway / direct p50 per round: c=1 ${p50Ratios(1)}; c=64 ${p50Ratios(64)})`);
  console.log("\nmode         conc   req/s      p50 ms   p99 ms");
  for (const c of [1, 64]) {
    for (const m of modes) {
      const r = med(m.name, c);
      console.log(`${m.name.padEnd(12)} ${String(c).padEnd(6)} ${fmt(r.throughput, 0).padEnd(10)} ${fmt(r.p50).padEnd(8)} ${fmt(r.p99)}`);
    }
  }
  for (const l of loads) l.close();
  client.close();
  await plugins.selector.close();
  await plugins.registry.close();
} finally {
  await stopAll(children);
  rmSync(registryDir, { recursive: true, force: true });
}
