/**
 * The metrics micro-ts records, on prom-client, loaded on first use (a process without metrics never
 * loads it). Created once per prom-client registry (default: prom-client's global `register`, so the user's
 * own metrics are served beside them); asking again for the same registry returns the same metrics.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `micro_server_requests_total` | counter | service, endpoint, code (200 or the error's code) |
 * | `micro_server_request_duration_seconds` | histogram | service, endpoint |
 * | `micro_server_requests_in_flight` | gauge | service, endpoint |
 * | `micro_client_requests_total` / `…_duration_seconds` / `…_in_flight` | as above | service, endpoint (, code) |
 * | `micro_broker_publishes_total` | counter | topic, code |
 * | `micro_broker_deliveries_total` | counter | topic, code |
 * | `micro_broker_delivery_duration_seconds` | histogram | topic |
 * | `micro_client_pool_connections` | gauge | — (open pooled connections of the process's clients) |
 * | `micro_registry_lookups_total` | counter | service, result (ok, error) |
 * | `micro_http_requests_total` | counter | method, route (`service endpoint`, or `unmatched`), status |
 * | `micro_http_request_duration_seconds` | histogram | method, route |
 */
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import { logger } from "../logger/index.js";

type Prom = typeof import("prom-client");

/** A prom-client registry (`new Registry()` from prom-client, or its global `register`). */
export type MetricsRegistry = Registry;

export interface MetricsOptions {
  /** Where the metrics are registered (default: prom-client's global `register`). */
  register?: MetricsRegistry;
}

/** One labelled value kept as a plain number on the hot path and handed to prom-client when scraped. */
export interface Cell {
  n: number;
}

/**
 * Plain-number cells by label values, read by a metric's `collect()` at scrape time: a call adds 1 to a cell
 * it looked up once, instead of prom-client hashing the labels on every `inc`.
 */
export class Tally {
  readonly cells = new Map<string, { labels: string[]; cell: Cell; reported: number }>();
  /** The cell of these label values (in the metric's label order). */
  cell(...labels: string[]): Cell {
    const key = labels.join("\u0000");
    let e = this.cells.get(key);
    if (e === undefined) this.cells.set(key, (e = { labels, cell: { n: 0 }, reported: 0 }));
    return e.cell;
  }
}

export interface MicroMetrics {
  readonly register: MetricsRegistry;
  /** `micro_server_requests_total` cells: service, endpoint, code. */
  readonly serverRequests: Tally;
  readonly serverDuration: Histogram<"service" | "endpoint">;
  /** `micro_server_requests_in_flight` cells: service, endpoint. */
  readonly serverInFlight: Tally;
  /** `micro_client_requests_total` cells: service, endpoint, code. */
  readonly clientRequests: Tally;
  readonly clientDuration: Histogram<"service" | "endpoint">;
  /** `micro_client_requests_in_flight` cells: service, endpoint. */
  readonly clientInFlight: Tally;
  readonly publishes: Counter<"topic" | "code">;
  readonly deliveries: Counter<"topic" | "code">;
  readonly deliveryDuration: Histogram<"topic">;
  readonly registryLookups: Counter<"service" | "result">;
  readonly httpRequests: Counter<"method" | "route" | "status">;
  readonly httpDuration: Histogram<"method" | "route">;
  /** Count the open connections of a client's pool in `micro_client_pool_connections`; returns the undo. */
  trackPool(count: () => number): () => void;
}

/** Latency buckets in seconds: 0.1 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const log = logger("metrics");
let prom: Promise<Prom> | undefined;
const byRegister = new WeakMap<object, Promise<MicroMetrics>>();

/** prom-client, loaded once. */
export function loadPromClient(): Promise<Prom> {
  return (prom ??= import("prom-client").then((m) => ((m as { default?: Prom }).default ?? m) as Prom));
}

function create(p: Prom, register: Registry): MicroMetrics {
  const registers = [register];
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) => (register.getSingleMetric(name) as Counter<L> | undefined) ?? new p.Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) => (register.getSingleMetric(name) as Gauge<L> | undefined) ?? new p.Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: L[]) =>
    (register.getSingleMetric(name) as Histogram<L> | undefined) ?? new p.Histogram<L>({ name, help, labelNames, buckets: [...LATENCY_BUCKETS], registers });
  // Counters and gauges fed from tallies when scraped (counters get what was added since the last scrape).
  const tallied = (kind: "counter" | "gauge", name: string, help: string, labelNames: string[]): Tally => {
    const tally = new Tally();
    if (register.getSingleMetric(name) === undefined) {
      const Metric = kind === "counter" ? p.Counter : p.Gauge;
      new Metric({
        name,
        help,
        labelNames,
        registers,
        collect(this: Counter<string> | Gauge<string>) {
          for (const e of tally.cells.values()) {
            if (kind === "gauge") (this as Gauge<string>).labels(...e.labels).set(e.cell.n);
            else if (e.cell.n !== e.reported) {
              (this as Counter<string>).labels(...e.labels).inc(e.cell.n - e.reported);
              e.reported = e.cell.n;
            }
          }
        },
      });
    }
    return tally;
  };
  const pools = new Set<() => number>();
  const poolName = "micro_client_pool_connections";
  if (!register.getSingleMetric(poolName)) {
    new p.Gauge({
      name: poolName,
      help: "Open pooled client connections",
      registers,
      collect() {
        let n = 0;
        for (const count of pools) n += count();
        this.set(n);
      },
    });
  }
  return {
    register,
    serverRequests: tallied("counter", "micro_server_requests_total", "Requests handled, by service, endpoint and code", ["service", "endpoint", "code"]),
    serverDuration: histogram("micro_server_request_duration_seconds", "Handler latency in seconds", ["service", "endpoint"]),
    serverInFlight: tallied("gauge", "micro_server_requests_in_flight", "Requests being handled", ["service", "endpoint"]),
    clientRequests: tallied("counter", "micro_client_requests_total", "Client calls (after retries), by service, endpoint and code", ["service", "endpoint", "code"]),
    clientDuration: histogram("micro_client_request_duration_seconds", "Client call latency in seconds (streams: until open)", ["service", "endpoint"]),
    clientInFlight: tallied("gauge", "micro_client_requests_in_flight", "Client calls in flight", ["service", "endpoint"]),
    publishes: counter("micro_broker_publishes_total", "Messages published, by topic and code", ["topic", "code"]),
    deliveries: counter("micro_broker_deliveries_total", "Messages delivered to subscribers, by topic and code", ["topic", "code"]),
    deliveryDuration: histogram("micro_broker_delivery_duration_seconds", "Subscriber handling time in seconds", ["topic"]),
    registryLookups: counter("micro_registry_lookups_total", "Registry lookups (getService), by service and result", ["service", "result"]),
    httpRequests: counter("micro_http_requests_total", "Gateway HTTP requests, by method, route and status", ["method", "route", "status"]),
    httpDuration: histogram("micro_http_request_duration_seconds", "Gateway HTTP latency in seconds", ["method", "route"]),
    trackPool(count) {
      pools.add(count);
      return () => void pools.delete(count);
    },
  };
}

/** The metrics on `options.register` (prom-client loaded on the first call). */
export function loadMetrics(options: MetricsOptions = {}): Promise<MicroMetrics> {
  const key: object = options.register ?? loadMetrics;
  let m = byRegister.get(key);
  if (m === undefined) {
    m = loadPromClient().then((p) => create(p, options.register ?? p.register));
    byRegister.set(key, m);
  }
  return m;
}

/**
 * The metrics for a wrapper: undefined while (or if) prom-client cannot be loaded, so calls are never failed by
 * their metrics — a failed load is logged once, at error.
 */
export function metricsForWrapper(options: MetricsOptions): { current(): MicroMetrics | undefined; ready: Promise<MicroMetrics | undefined> } {
  let current: MicroMetrics | undefined;
  const ready = loadMetrics(options).then(
    (m) => (current = m),
    (err: unknown) => {
      log.error({ err }, "metrics disabled: prom-client could not be loaded (is it installed?)");
      return undefined;
    },
  );
  return { current: () => current, ready };
}

/** The `code` label of an outcome: 200, or the error's code (500 when it has none). */
export function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? String(code) : "500";
}
