/**
 * RPC benchmark: micro-ts against @grpc/grpc-js, same messages, servers in their own processes, measured in
 * the same run. Unary greeter at concurrency 1 and 64 (throughput, p50, p99), and one 10 000-message
 * server stream (median of 5 after 3 warm-ups). Prints a table, ratio (micro-ts / grpc-js) first.
 *
 *   npm run bench:rpc            # BENCH_SECONDS=3 by default per measurement
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { newService, type CallTarget } from "../src/index.js";
import { BenchGreeter, grpcDescriptor, type HelloRequest, type HelloResponse } from "./rpc-messages.js";
import { measure } from "./support/load.js";
import { startReady, stopAll } from "./support/process.js";
import { markdownTable } from "./support/table.js";
import { productionOverhead } from "./rpc-production.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const streamMessages = 10_000;
const registryDir = mkdtempSync(join(tmpdir(), "micro-bench-rpc-"));
const children: ChildProcess[] = [];

const startServer = (file: string, args: string[]) => startReady(children, file, import.meta.url, args, { ...process.env, MICRO_LOG_LEVEL: "warn" });

/** Median rate of 5 streams after 3 warm-up streams (the JIT needs a few to settle on both sides). */
async function timeStream(run: () => Promise<number>): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const rates: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const n = await run();
    if (n !== streamMessages) throw new Error(`stream delivered ${n} of ${streamMessages} messages`);
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return rates.sort((a, b) => a - b)[2]!;
}

async function main(): Promise<void> {
  const [microAddress, grpcAddress] = await Promise.all([
    startServer("./rpc-server-micro.js", ["--registry_address", registryDir]),
    startServer("./rpc-server-grpc.js", []),
  ]);

  // micro-ts client: discovery through the local registry (cached), pooled connections.
  const service = newService({ name: "bench-client", argv: ["--registry_address", registryDir], env: {} });
  service.init();
  const client = service.client();
  const hello: CallTarget<HelloRequest, HelloResponse> = { service: "bench-greeter", endpoint: "Greeter.Hello", method: BenchGreeter.methods.hello };
  const stream: CallTarget<HelloRequest, HelloResponse> = { service: "bench-greeter", endpoint: "Greeter.Stream", method: BenchGreeter.methods.stream };
  const microCall = () => client.call(hello, { name: "bench" });
  await microCall();

  // grpc-js client: one channel, as grpc-js multiplexes calls over HTTP/2.
  const definition = protoLoader.fromJSON(grpcDescriptor, { keepCase: true, defaults: true });
  const proto = grpc.loadPackageDefinition(definition) as any;
  const grpcClient = new proto.bench.Greeter(grpcAddress, grpc.credentials.createInsecure());
  const grpcCall = () =>
    new Promise<HelloResponse>((resolve, reject) => grpcClient.Hello({ name: "bench" }, { deadline: Date.now() + 5000 }, (e: Error | null, r: HelloResponse) => (e ? reject(e) : resolve(r))));
  await grpcCall();

  const rows: { name: string; micro: number; grpc: number; unit: string; higherIsBetter: boolean }[] = [];
  for (const c of [1, 64]) {
    const m = await measure(microCall, c, { seconds });
    const g = await measure(grpcCall, c, { seconds });
    rows.push({ name: `unary c=${c} throughput`, micro: m.throughput, grpc: g.throughput, unit: "req/s", higherIsBetter: true });
    rows.push({ name: `unary c=${c} p50`, micro: m.p50, grpc: g.p50, unit: "ms", higherIsBetter: false });
    rows.push({ name: `unary c=${c} p99`, micro: m.p99, grpc: g.p99, unit: "ms", higherIsBetter: false });
  }

  const microStream = await timeStream(async () => {
    let n = 0;
    for await (const _ of client.serverStream(stream, { name: String(streamMessages) })) n++;
    return n;
  });
  const grpcStream = await timeStream(
    () =>
      new Promise<number>((resolve, reject) => {
        let n = 0;
        const call = grpcClient.Stream({ name: String(streamMessages) });
        call.on("data", () => n++);
        call.on("end", () => resolve(n));
        call.on("error", reject);
      }),
  );
  rows.push({ name: `server stream ${streamMessages} msgs`, micro: microStream, grpc: grpcStream, unit: "msg/s", higherIsBetter: true });

  const fmt = (v: number, unit: string) => (unit === "ms" ? `${v.toFixed(3)} ms` : `${Math.round(v).toLocaleString("en-US")} ${unit}`);
  console.log(`micro-ts vs @grpc/grpc-js — unary greeter and server stream, loopback, servers in separate processes, ${seconds}s per measurement (node ${process.version})\n`);
  const table = rows.map((r) => {
    const ratio = r.micro / r.grpc;
    const note = r.higherIsBetter ? (ratio >= 1 ? "better" : "worse") : ratio <= 1 ? "better" : "worse";
    return [r.name, `${ratio.toFixed(2)}× (${note})`, fmt(r.micro, r.unit), fmt(r.grpc, r.unit)];
  });
  console.log(markdownTable(["benchmark", "ratio (micro-ts / grpc-js)", "micro-ts", "grpc-js"], table));

  grpcClient.close();
  await service.stop();
}

try {
  await main();
  // Auth + tracing + metrics wrappers against the bare service, in the same run (bench/rpc-production.ts).
  await productionOverhead({ registryDir, seconds, children });
} finally {
  await stopAll(children);
  rmSync(registryDir, { recursive: true, force: true });
}
