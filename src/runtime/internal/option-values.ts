/** Small readers for plugin options that come from code or from `MICRO_*` variables. */
import { MicroError } from "../errors/index.js";

/** An environment value, or undefined when it is unset or empty (an empty variable means "not given"). */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/**
 * A positive number of milliseconds, or `fallback` when not given.
 * @param owner names the option's owner in the error, e.g. `etcd registry`.
 * @throws MicroError (400, id `id`) naming the option and the bad value.
 */
export function positiveMs(value: number | undefined, fallback: number, id: string, owner: string, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw MicroError.badRequest(id, `${owner} option ${name} must be a positive number of milliseconds, got ${value}`);
  return value;
}
