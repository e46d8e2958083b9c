/**
 * The structured logger every part of the runtime logs through (pino). Logs go to stderr so that command
 * output on stdout stays clean. Level from `MICRO_LOG_LEVEL` (default `info`; `silent` turns it off).
 */
import { pino, type Logger } from "pino";

export type { Logger };

let root: Logger | undefined;

/** The process-wide root logger (created on first use). */
export function rootLogger(): Logger {
  root ??= pino({ level: process.env.MICRO_LOG_LEVEL ?? "info", base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
  return root;
}

/** A child logger for one component, e.g. `logger("transport")`. */
export function logger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ component, ...bindings });
}

/** Replace the root logger (tests, or applications that bring their own pino instance). */
export function setRootLogger(next: Logger): void {
  root = next;
}
