/**
 * Closed-loop load for the benchmarks: `concurrency` loops each await one call after another for a fixed
 * time, after a warm-up; every call's latency is recorded.
 */

/** Calls per second over the measured time, and latency percentiles in milliseconds. */
export interface LoadResult {
  throughput: number;
  p50: number;
  p99: number;
}

export interface LoadOptions {
  /** Measured time in seconds. */
  seconds: number;
  /** Warm-up before measuring, in milliseconds (default 500): lets the JIT and the connections settle. */
  warmupMs?: number;
}

/** The `q` quantile (0–1) of ascending `sorted` values (NaN when empty). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Run `call` from `concurrency` loops (loop i gets `i`) for `options.seconds`, after a warm-up. */
export async function measure(call: (loop: number) => Promise<unknown>, concurrency: number, options: LoadOptions): Promise<LoadResult> {
  const loops = (body: (i: number) => Promise<void>) => Promise.all(Array.from({ length: concurrency }, (_, i) => body(i)));
  const warmEnd = performance.now() + (options.warmupMs ?? 500);
  await loops(async (i) => {
    while (performance.now() < warmEnd) await call(i);
  });
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + options.seconds * 1000;
  await loops(async (i) => {
    while (performance.now() < end) {
      const t = performance.now();
      await call(i);
      latencies.push(performance.now() - t);
    }
  });
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { throughput: latencies.length / elapsed, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}
