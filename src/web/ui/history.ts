/**
 * What this browser remembers in localStorage: the calls it made (replayable) and the console's lines.
 */
import type { MethodKind } from "../../runtime/definition/index.js";

export interface HistoryEntry {
  at: string;
  service: string;
  endpoint: string;
  kind: MethodKind;
  /** The request JSON as typed. */
  request: string;
  /** `key=value` lines. */
  metadata: string;
  timeout: string;
}

const CALLS = "micro-web.calls";
const LINES = "micro-web.console";
const KEEP = 100;

function read<T>(key: string): T[] {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? "[]") as unknown;
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

function write(key: string, items: unknown[]): void {
  try {
    localStorage.setItem(key, JSON.stringify(items.slice(0, KEEP)));
  } catch {
    // Storage full or disabled: the history is a convenience, the call itself went through.
  }
}

/** Newest first. */
export const calls = (): HistoryEntry[] => read<HistoryEntry>(CALLS);
export const remember = (e: HistoryEntry): void => write(CALLS, [e, ...calls()]);
export const forgetCalls = (): void => write(CALLS, []);

/** Console lines, newest last. */
export const consoleLines = (): string[] => read<string>(LINES).reverse();
export const rememberLine = (line: string): void => write(LINES, [line, ...read<string>(LINES).filter((l) => l !== line)]);
