/**
 * Liveness and readiness (Kubernetes' probes): live while the process answers; ready while every check
 * passes — the service's own (registered, broker connected, not draining) and the user's
 * (`service.health.addCheck(name, fn)`), each bounded by a timeout so a hung dependency reads as failing.
 */

/** One check's outcome. */
export interface CheckResult {
  readonly ok: boolean;
  /** Why it fails (or what the check said). */
  readonly detail?: string;
  /** Milliseconds it took. */
  readonly ms: number;
}

/** The readiness report: `/health/ready`'s JSON body. */
export interface HealthReport {
  readonly status: "ready" | "not ready";
  readonly checks: Readonly<Record<string, CheckResult>>;
}

/**
 * A check: resolves (to anything; a string is shown as its detail) when the dependency is fine, throws or
 * rejects (or resolves `false`) when not.
 */
export type HealthCheck = () => Promise<unknown> | unknown;

export interface CheckOptions {
  /** Milliseconds the check may take before it counts as failing (default 2000). */
  timeout?: number;
}

/** Default milliseconds a check may take. */
export const DEFAULT_CHECK_TIMEOUT = 2000;

interface Entry {
  readonly fn: HealthCheck;
  readonly timeout: number;
}

async function run(entry: Entry): Promise<CheckResult> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const ms = (): number => Math.round((performance.now() - start) * 10) / 10;
  try {
    const value = await Promise.race([
      Promise.resolve().then(entry.fn),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${entry.timeout} ms`)), entry.timeout);
      }),
    ]);
    if (value === false) return { ok: false, detail: "check returned false", ms: ms() };
    return typeof value === "string" ? { ok: true, detail: value, ms: ms() } : { ok: true, ms: ms() };
  } catch (error) {
    return { ok: false, detail: (error as Error)?.message ?? String(error), ms: ms() };
  } finally {
    clearTimeout(timer);
  }
}

/** The health of a process: named checks, and a draining flag that fails readiness first on stop. */
export class Health {
  private readonly checks = new Map<string, Entry>();
  private draining = false;

  /**
   * Add (or replace) a readiness check. @throws TypeError for an empty name or a non-function check,
   * RangeError for a timeout that is not a positive number.
   */
  addCheck(name: string, check: HealthCheck, options: CheckOptions = {}): void {
    if (typeof name !== "string" || name.trim() === "") throw new TypeError("health check name must be a non-empty string");
    if (typeof check !== "function") throw new TypeError(`health check "${name}" must be a function (async or not)`);
    const timeout = options.timeout ?? DEFAULT_CHECK_TIMEOUT;
    if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0) throw new RangeError(`health check "${name}" timeout must be a positive number of milliseconds, got ${String(timeout)}`);
    this.checks.set(name, { fn: check, timeout });
  }

  /** Remove a check; true when there was one. */
  removeCheck(name: string): boolean {
    return this.checks.delete(name);
  }

  /** Mark the process as draining (on stop): readiness fails from now on, before the drain starts. */
  setDraining(draining: boolean): void {
    this.draining = draining;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Run every check (concurrently) and report. */
  async ready(): Promise<HealthReport> {
    const names = [...this.checks.keys()];
    const results = await Promise.all(names.map((n) => run(this.checks.get(n)!)));
    const checks: Record<string, CheckResult> = { draining: this.draining ? { ok: false, detail: "stopping: draining in-flight calls", ms: 0 } : { ok: true, ms: 0 } };
    names.forEach((n, i) => (checks[n] = results[i]!));
    const ok = Object.values(checks).every((c) => c.ok);
    return { status: ok ? "ready" : "not ready", checks };
  }
}

/** A short status line of a report (`ok`, or `not ready: broker, db`) for `Debug.Health`. */
export function statusLine(report: HealthReport): string {
  if (report.status === "ready") return "ok";
  const failing = Object.entries(report.checks)
    .filter(([, c]) => !c.ok)
    .map(([n]) => n)
    .join(", ");
  const line = `not ready: ${failing}`;
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}
