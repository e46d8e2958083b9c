/**
 * The production-wrapper overhead section of `npm run bench:rpc`: the bench greeter bare against the same
 * greeter with auth (HS256 bearer token verified per call) + tracing (OpenTelemetry API spans, no SDK) +
 * metrics (prom-client) on both the client and the server, measured alternately in the same run. Reports
 * throughput, p50, the time each call adds in µs (1/throughput wrapped − 1/throughput bare) and the
 * throughput lost in %.
 */
import type { ChildProcess } from "node:child_process";
import { SignJWT } from "jose";
import { authClientWrapper, metricsClientWrapper, newService, type CallTarget } from "../src/index.js";
import { BenchGreeter, type HelloRequest, type HelloResponse } from "./rpc-messages.js";
import { measure, type LoadResult } from "./support/load.js";
import { startReady } from "./support/process.js";
import { markdownTable } from "./support/table.js";
import { BENCH_SECRET, tracingClientWrapper } from "./support/production-wrappers.js";

export interface ProductionBenchOptions {
  registryDir: string;
  seconds: number;
  children: ChildProcess[];
}

/** Run the section and print its table. The target is under 15 % of throughput lost. */
export async function productionOverhead({ registryDir, seconds, children }: ProductionBenchOptions): Promise<void> {
  const env = { ...process.env, MICRO_LOG_LEVEL: "warn" };
  await Promise.all([
    startReady(children, "./rpc-server-production.js", import.meta.url, ["--registry_address", registryDir], env),
    startReady(children, "./rpc-server-production.js", import.meta.url, ["--registry_address", registryDir], { ...env, BENCH_PRODUCTION: "1" }),
  ]);
  const token = await new SignJWT({ scope: "bench" }).setProtectedHeader({ alg: "HS256" }).setSubject("bench").setExpirationTime("1h").sign(new TextEncoder().encode(BENCH_SECRET));
  const argv = ["--registry_address", registryDir];
  const bare = newService({ name: "bench-client-bare", argv, env: {} });
  const prod = newService({ name: "bench-client-production", argv, env: {}, wrapClient: [tracingClientWrapper(), metricsClientWrapper(), authClientWrapper({ token })] });
  bare.init();
  prod.init();
  const target = (service: string): CallTarget<HelloRequest, HelloResponse> => ({ service, endpoint: "Greeter.Hello", method: BenchGreeter.methods.hello });
  const bareTarget = target("bench-greeter-bare");
  const prodTarget = target("bench-greeter-production");
  const bareCall = () => bare.client().call(bareTarget, { name: "bench" });
  const prodCall = () => prod.client().call(prodTarget, { name: "bench" });
  await bareCall();
  await prodCall();

  const rows: string[][] = [];
  for (const c of [1, 64]) {
    // Alternate three times and keep each side's better run, so neither side gets all of a noisy moment.
    const runs: { b: LoadResult; p: LoadResult }[] = [];
    for (let i = 0; i < 3; i++) runs.push({ b: await measure(bareCall, c, { seconds }), p: await measure(prodCall, c, { seconds }) });
    const b = runs.map((r) => r.b).sort((x, y) => y.throughput - x.throughput)[0]!;
    const p = runs.map((r) => r.p).sort((x, y) => y.throughput - x.throughput)[0]!;
    // Time each call adds: at c=1 the difference of mean call times; at c=64 (saturated) of the busiest side's time per call.
    const perCallUs = (1 / p.throughput - 1 / b.throughput) * 1e6;
    const lost = (1 - p.throughput / b.throughput) * 100;
    rows.push([
      `unary c=${c}`,
      `${(p.throughput / b.throughput).toFixed(2)}×`,
      `${Math.round(b.throughput).toLocaleString("en-US")} req/s, p50 ${b.p50.toFixed(3)} ms`,
      `${Math.round(p.throughput).toLocaleString("en-US")} req/s, p50 ${p.p50.toFixed(3)} ms`,
      `${perCallUs.toFixed(1)} µs`,
      `${lost.toFixed(1)} %${lost < 15 ? "" : " (over the 15 % target)"}`,
    ]);
  }
  console.log(`\nproduction wrappers (auth HS256 + OpenTelemetry API spans, no SDK + prom-client metrics, client and server) vs bare, ${seconds}s per run, best of 3 alternating runs\n`);
  console.log(markdownTable(["benchmark", "ratio (wrapped / bare)", "bare", "wrapped", "overhead per call", "throughput lost"], rows));
  await Promise.all([bare.stop(), prod.stop()]);
}
