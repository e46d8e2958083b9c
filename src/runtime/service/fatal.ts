/**
 * How a service program ends when it cannot start (port taken, bad flag, unknown plugin, bad address): one
 * clear line on stderr and exit code 1, as `micro api` does; the stack only at MICRO_LOG_LEVEL=debug (or trace).
 */
import { MicroError } from "../errors/index.js";

/** The one line for a failure: the MicroError's detail, or the error's message. */
export function failureText(error: unknown): string {
  if (error instanceof MicroError) return error.detail;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Print `<name>: cannot start: <reason>` on stderr and exit 1. For a program's main:
 * `try { service.init(); …; await service.run(); } catch (error) { exitOnStartFailure(error, "hello"); }`.
 */
export function exitOnStartFailure(error: unknown, name?: string): never {
  process.stderr.write(`${name ? `${name}: ` : ""}cannot start: ${failureText(error)}\n`);
  const level = process.env.MICRO_LOG_LEVEL;
  if ((level === "debug" || level === "trace") && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}
