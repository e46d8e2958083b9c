/**
 * Broker benchmark: the zero-config `direct` broker (local registry + tcp transport, no daemon) against the
 * `nats` broker (core NATS, at most once) on a nats-server and the `rabbitmq` broker (publisher confirms,
 * persistent messages, acknowledged after the handler) on a rabbitmq-server, both started for the run,
 * measured in the same run. A measurement is end to end: from `publish` until every subscriber's handler has
 * the message. Prints a table, ratios to NATS first.
 *
 *   npm run build:test && node build/bench/broker.js      # BENCH_SECONDS=3 per measurement by default
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Broker } from "../src/runtime/broker/index.js";
import { directBroker } from "../src/runtime/broker/direct/index.js";
import { natsBroker } from "../src/runtime/broker/nats/index.js";
import { rabbitmqBroker } from "../src/runtime/broker/rabbitmq/index.js";
import { localRegistry } from "../src/runtime/registry/local/index.js";
import { tcpTransport } from "../src/runtime/transport/tcp/index.js";
import { startNats, startRabbitMQ } from "../test/support/servers.js";
import { measure, type LoadResult } from "./support/load.js";
import { markdownTable, ratio } from "./support/table.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const body = new Uint8Array(256).fill(7);

interface Pair {
  publisher: Broker;
  subscribers: Broker[];
  close(): Promise<void>;
}

/** Deliveries awaited by message id. */
const waiting = new Map<string, { left: number; done: () => void }>();
let seq = 0;

async function subscribeAll(subscribers: readonly Broker[], topic: string): Promise<void> {
  for (const broker of subscribers) {
    await broker.subscribe(topic, ({ message }) => {
      const w = waiting.get(message.header["X-Id"] ?? "");
      if (w && --w.left === 0) {
        waiting.delete(message.header["X-Id"]!);
        w.done();
      }
    });
  }
}

/** Publish one message and wait until `fanout` handlers have it. */
function roundTrip(publisher: Broker, topic: string, fanout: number): Promise<void> {
  const id = String(++seq);
  const delivered = new Promise<void>((resolve) => waiting.set(id, { left: fanout, done: resolve }));
  return Promise.all([publisher.publish(topic, { header: { "X-Id": id }, body }), delivered]).then(() => undefined);
}

async function directPair(dir: string, fanout: number): Promise<Pair> {
  const registry = localRegistry({ address: dir });
  const make = () => directBroker({ registry, transport: tcpTransport() });
  const publisher = make();
  const subscribers = Array.from({ length: fanout }, make);
  return { publisher, subscribers, close: async () => (await Promise.all([publisher, ...subscribers].map((b) => b.disconnect())), await registry.close()) };
}

async function networkPair(newBroker: () => Broker, fanout: number): Promise<Pair> {
  const make = async () => {
    const broker = newBroker();
    await broker.connect();
    return broker;
  };
  const publisher = await make();
  const subscribers = await Promise.all(Array.from({ length: fanout }, make));
  return { publisher, subscribers, close: async () => void (await Promise.all([publisher, ...subscribers].map((b) => b.disconnect()))) };
}

const rows: string[][] = [];
const nats = await startNats();
const rabbit = await startRabbitMQ();
const dir = mkdtempSync(join(tmpdir(), "micro-bench-broker-"));
try {
  for (const [fanout, concurrency] of [[1, 1], [1, 64], [4, 16]] as const) {
    const results: LoadResult[] = [];
    const contenders = [
      () => directPair(dir, fanout),
      () => networkPair(() => natsBroker({ servers: [nats.address] }), fanout),
      () => networkPair(() => rabbitmqBroker({ address: rabbit.address }), fanout),
    ];
    for (const make of contenders) {
      const pair = await make();
      const topic = `bench.${fanout}.${concurrency}.${results.length}`;
      await subscribeAll(pair.subscribers, topic);
      await new Promise((r) => setTimeout(r, 100)); // let NATS propagate the subscriptions
      results.push(await measure(() => roundTrip(pair.publisher, topic, fanout), concurrency, { seconds }));
      await pair.close();
    }
    const [d, n, r] = results as [LoadResult, LoadResult, LoadResult];
    rows.push([
      `${fanout} subscriber${fanout > 1 ? "s" : ""}, ${concurrency} in flight`,
      ratio(d.throughput, n.throughput),
      ratio(r.throughput, n.throughput),
      d.throughput.toFixed(0),
      n.throughput.toFixed(0),
      r.throughput.toFixed(0),
      `${d.p50.toFixed(3)} / ${d.p99.toFixed(3)}`,
      `${n.p50.toFixed(3)} / ${n.p99.toFixed(3)}`,
      `${r.p50.toFixed(3)} / ${r.p99.toFixed(3)}`,
    ]);
  }
} finally {
  await nats.dispose();
  await rabbit.dispose();
  rmSync(dir, { recursive: true, force: true });
}

const header = ["case", "direct/nats", "rabbitmq/nats", "direct msg/s", "nats msg/s", "rabbitmq msg/s", "direct p50/p99 ms", "nats p50/p99 ms", "rabbitmq p50/p99 ms"];
console.log(`broker benchmark: 256-byte messages, publish until every subscriber has it, ${seconds} s per case, node ${process.version}`);
console.log(markdownTable(header, rows));
