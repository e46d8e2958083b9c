/**
 * Gateway benchmark: the same greeter call through `micro api` (HTTP/JSON → gateway → RPC) and as a direct
 * RPC from a runtime client, measured in the same run. The service and the gateway run in their own
 * processes; the load comes from this one. Concurrency 1 (latency) and 64 (throughput). Prints a table,
 * ratio (gateway / direct) first.
 *
 *   npm run bench:gateway        # BENCH_SECONDS=3 by default per measurement
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jsonTarget } from "../src/api/targets.js";
import { newClient, readConfig, resolvePlugins } from "../src/index.js";
import { HttpConnection, jsonPost } from "./http-load.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const registryDir = mkdtempSync(join(tmpdir(), "micro-bench-gateway-"));
const env = { ...process.env, MICRO_REGISTRY: "local", MICRO_REGISTRY_ADDRESS: registryDir, MICRO_LOG_LEVEL: "warn" };
const children: ChildProcess[] = [];

function start(file: string): Promise<string> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], { env, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      const line = buffer.split("\n").find((l) => l.includes('"ready"'));
      if (line) resolve(String((JSON.parse(line) as { address: string }).address));
    });
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
  });
}

interface Result {
  throughput: number;
  p50: number;
  p99: number;
}

/** Run `call` from `concurrency` loops (loop i gets `i`) for `seconds`, after a short warm-up. */
async function measure(call: (loop: number) => Promise<unknown>, concurrency: number): Promise<Result> {
  const warmEnd = performance.now() + 500;
  await Promise.all(Array.from({ length: concurrency }, async (_, i) => {
    while (performance.now() < warmEnd) await call(i);
  }));
  const latencies: number[] = [];
  const begin = performance.now();
  const end = begin + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async (_, i) => {
    while (performance.now() < end) {
      const t = performance.now();
      await call(i);
      latencies.push(performance.now() - t);
    }
  }));
  const elapsed = (performance.now() - begin) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { throughput: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

try {
  await start("../test/fixtures/cli/greeter-service.js");
  const gateway = await start("../test/fixtures/cli/gateway-process.js");
  const [host, port] = [gateway.slice(0, gateway.lastIndexOf(":")), Number(gateway.slice(gateway.lastIndexOf(":") + 1))];

  const plugins = await resolvePlugins(readConfig([], env));
  const client = newClient({ deps: { selector: plugins.selector, transport: plugins.transport, broker: plugins.broker } });
  const target = jsonTarget("greeter", "Greeter.Hello");
  const body = JSON.stringify({ name: "bench" });
  const direct = (): Promise<unknown> => client.call(target, { name: "bench" }, { contentType: "application/json" });

  // One keep-alive connection per loop, with a lean HTTP client so that the load generator stays cheap.
  const connections = Array.from({ length: 64 }, () => new HttpConnection(host, port, jsonPost(gateway, "/greeter/hello", body)));
  await Promise.all(connections.map((c) => c.ready));
  const viaGateway = async (loop: number): Promise<void> => {
    const status = await connections[loop]!.send();
    if (status !== 200) throw new Error(`gateway answered ${status}`);
  };

  const rows: { name: string; c: number; r: Result }[] = [];
  for (const c of [1, 64]) {
    rows.push({ name: "direct rpc", c, r: await measure(direct, c) });
    rows.push({ name: "gateway", c, r: await measure(viaGateway, c) });
  }
  const fmt = (n: number, d = 3): string => n.toFixed(d);
  console.log(`gateway vs direct RPC, ${seconds}s per row, service and gateway in their own processes (node ${process.version})\n`);
  console.log("ratio (gateway / direct)   conc   p50      p99      req/s");
  for (const c of [1, 64]) {
    const d = rows.find((x) => x.name === "direct rpc" && x.c === c)!.r;
    const g = rows.find((x) => x.name === "gateway" && x.c === c)!.r;
    console.log(`                           ${String(c).padEnd(6)} ${fmt(g.p50 / d.p50, 2).padEnd(8)} ${fmt(g.p99 / d.p99, 2).padEnd(8)} ${fmt(g.throughput / d.throughput, 2)}`);
  }
  console.log("\nmode         conc   req/s      p50 ms   p99 ms");
  for (const { name, c, r } of rows) {
    console.log(`${name.padEnd(12)} ${String(c).padEnd(6)} ${fmt(r.throughput, 0).padEnd(10)} ${fmt(r.p50).padEnd(8)} ${fmt(r.p99)}`);
  }
  for (const c of connections) c.close();
  client.close();
  await plugins.selector.close();
  await plugins.registry.close();
} finally {
  for (const c of children) c.kill("SIGTERM");
  rmSync(registryDir, { recursive: true, force: true });
}
