/**
 * RPC benchmark: micro-ts over its tcp transport and over its grpc transport, against @grpc/grpc-js and a
 * floor (bare node:http2 exchanging the same gRPC-framed bytes, bench/rpc-h2-floor.ts); same messages,
 * servers in their own processes, measured in the same run. Unary greeter at concurrency 1 and 64
 * (throughput, p50, p99), and one 10 000-message server stream (median of 5 after 3 warm-ups). Prints a
 * table, ratio (micro-ts tcp / grpc-js) first, then the grpc transport's ratios to grpc-js and to the floor.
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
import { floorClient } from "./rpc-h2-floor.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const streamMessages = 10_000;
const registryDir = mkdtempSync(join(tmpdir(), "micro-bench-rpc-"));
const grpcRegistryDir = mkdtempSync(join(tmpdir(), "micro-bench-rpc-grpc-"));
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
  const [microAddress, grpcAddress, , floorAddress] = await Promise.all([
    startServer("./rpc-server-micro.js", ["--registry_address", registryDir]),
    startServer("./rpc-server-grpc.js", []),
    startServer("./rpc-server-micro.js", ["--registry_address", grpcRegistryDir, "--transport", "grpc"]),
    startServer("./rpc-h2-floor.js", []),
  ]);

  // micro-ts client: discovery through the local registry (cached), pooled connections.
  const service = newService({ name: "bench-client", argv: ["--registry_address", registryDir], env: {} });
  service.init();
  const client = service.client();
  const hello: CallTarget<HelloRequest, HelloResponse> = { service: "bench-greeter", endpoint: "Greeter.Hello", method: BenchGreeter.methods.hello };
  const stream: CallTarget<HelloRequest, HelloResponse> = { service: "bench-greeter", endpoint: "Greeter.Stream", method: BenchGreeter.methods.stream };
  const microCall = () => client.call(hello, { name: "bench" });
  await microCall();

  // micro-ts over its grpc transport: the same client code, the node found through discovery says `transport: grpc`.
  const grpcService = newService({ name: "bench-client-grpc", argv: ["--registry_address", grpcRegistryDir, "--transport", "grpc"], env: {} });
  grpcService.init();
  const microGrpc = grpcService.client();
  const microGrpcCall = () => microGrpc.call(hello, { name: "bench" });
  await microGrpcCall();

  const floor = await floorClient(floorAddress);
  const floorCall = () => floor.hello();
  await floorCall();

  // grpc-js client: one channel, as grpc-js multiplexes calls over HTTP/2.
  const definition = protoLoader.fromJSON(grpcDescriptor, { keepCase: true, defaults: true });
  const proto = grpc.loadPackageDefinition(definition) as any;
  const grpcClient = new proto.bench.Greeter(grpcAddress, grpc.credentials.createInsecure());
  const grpcCall = () =>
    new Promise<HelloResponse>((resolve, reject) => grpcClient.Hello({ name: "bench" }, { deadline: Date.now() + 5000 }, (e: Error | null, r: HelloResponse) => (e ? reject(e) : resolve(r))));
  await grpcCall();

  const rows: { name: string; micro: number; grpc: number; microGrpc: number; floor: number; unit: string; higherIsBetter: boolean }[] = [];
  for (const c of [1, 64]) {
    const m = await measure(microCall, c, { seconds });
    const g = await measure(grpcCall, c, { seconds });
    const mg = await measure(microGrpcCall, c, { seconds });
    const f = await measure(floorCall, c, { seconds });
    rows.push({ name: `unary c=${c} throughput`, micro: m.throughput, grpc: g.throughput, microGrpc: mg.throughput, floor: f.throughput, unit: "req/s", higherIsBetter: true });
    rows.push({ name: `unary c=${c} p50`, micro: m.p50, grpc: g.p50, microGrpc: mg.p50, floor: f.p50, unit: "ms", higherIsBetter: false });
    rows.push({ name: `unary c=${c} p99`, micro: m.p99, grpc: g.p99, microGrpc: mg.p99, floor: f.p99, unit: "ms", higherIsBetter: false });
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
  const microGrpcStream = await timeStream(async () => {
    let n = 0;
    for await (const _ of microGrpc.serverStream(stream, { name: String(streamMessages) })) n++;
    return n;
  });
  const floorStream = await timeStream(() => floor.stream(streamMessages));
  rows.push({ name: `server stream ${streamMessages} msgs`, micro: microStream, grpc: grpcStream, microGrpc: microGrpcStream, floor: floorStream, unit: "msg/s", higherIsBetter: true });

  const fmt = (v: number, unit: string) => (unit === "ms" ? `${v.toFixed(3)} ms` : `${Math.round(v).toLocaleString("en-US")} ${unit}`);
  console.log(`micro-ts (tcp and grpc transports) vs @grpc/grpc-js vs a bare node:http2 floor — unary greeter and server stream, loopback, servers in separate processes, ${seconds}s per measurement (node ${process.version})\n`);
  const ratio = (a: number, b: number, higherIsBetter: boolean) => {
    const x = a / b;
    return `${x.toFixed(2)}× (${higherIsBetter ? (x >= 1 ? "better" : "worse") : x <= 1 ? "better" : "worse"})`;
  };
  const table = rows.map((r) => [
    r.name,
    ratio(r.micro, r.grpc, r.higherIsBetter),
    ratio(r.microGrpc, r.grpc, r.higherIsBetter),
    `${(r.microGrpc / r.floor).toFixed(2)}×`,
    fmt(r.micro, r.unit),
    fmt(r.microGrpc, r.unit),
    fmt(r.grpc, r.unit),
    fmt(r.floor, r.unit),
  ]);
  console.log(markdownTable(["benchmark", "micro-ts tcp / grpc-js", "micro-ts grpc / grpc-js", "micro-ts grpc / h2 floor", "micro-ts tcp", "micro-ts grpc", "grpc-js", "h2 floor"], table));

  grpcClient.close();
  floor.close();
  await service.stop();
  await grpcService.stop();
}

try {
  await main();
  // Auth + tracing + metrics wrappers against the bare service, in the same run (bench/rpc-production.ts).
  await productionOverhead({ registryDir, seconds, children });
} finally {
  await stopAll(children);
  rmSync(registryDir, { recursive: true, force: true });
  rmSync(grpcRegistryDir, { recursive: true, force: true });
}
