/**
 * The structured logger every part of the runtime logs through (pino). Logs go to stderr so that command
 * output on stdout stays clean. Level from `MICRO_LOG_LEVEL` (default `info`; `silent` turns it off).
 *
 * Modules create their loggers when they are imported, often before a program (or a test) sets
 * `MICRO_LOG_LEVEL`; {@link setLogLevel} changes the level of every logger made here, and `newService` applies
 * a `MICRO_LOG_LEVEL` that changed since the first logger was made.
 */
import { pino, type Logger } from "pino";

export type { Logger };

let root: Logger | undefined;
/** The level the loggers run at: what MICRO_LOG_LEVEL said when the root was made, or the last setLogLevel. */
let current: string | undefined;
/** Every child made by {@link logger}, so a later level reaches them too (weakly held: per-call children are collected). */
const children = new Set<WeakRef<Logger>>();

/** The process-wide root logger (created on first use). */
export function rootLogger(): Logger {
  if (!root) {
    current = process.env.MICRO_LOG_LEVEL || "info";
    root = pino({ level: current, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
  }
  return root;
}

/** A child logger for one component, e.g. `logger("transport")`. */
export function logger(component: string, bindings: Record<string, unknown> = {}): Logger {
  const child = rootLogger().child({ component, ...bindings });
  if (children.size > 256) for (const ref of children) if (ref.deref() === undefined) children.delete(ref);
  children.add(new WeakRef(child));
  return child;
}

/** Set the level of the root logger and of every logger made by {@link logger} so far. */
export function setLogLevel(level: string): void {
  const r = rootLogger();
  r.level = level;
  current = level;
  for (const ref of children) {
    const child = ref.deref();
    if (child === undefined) children.delete(ref);
    else child.level = level;
  }
}

/** Apply `MICRO_LOG_LEVEL` if it changed since the loggers were made (a program or test set it after its imports). */
export function applyLogLevelFromEnv(): void {
  const wanted = process.env.MICRO_LOG_LEVEL;
  if (wanted && wanted !== current && root !== undefined) setLogLevel(wanted);
}

/** Replace the root logger (tests, or applications that bring their own pino instance). */
export function setRootLogger(next: Logger): void {
  root = next;
  current = next.level;
}
