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
  return positiveNumber(value, fallback, id, owner, name, { unit: "milliseconds" });
}

/**
 * A positive finite number (at most `max`), or `fallback` when not given; the reader every plugin, wrapper and
 * gateway limit uses, so a bad option is always the same error.
 * @param owner names the option's owner in the error, e.g. `tcp transport`.
 * @param unit words the error: "must be a positive number of <unit>".
 * @throws MicroError (400, id `id`) naming the option and the bad value.
 */
export function positiveNumber(
  value: number | undefined,
  fallback: number,
  id: string,
  owner: string,
  name: string,
  { unit, max = Infinity }: { unit?: string; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > max) {
    const of = unit === undefined ? "" : ` of ${unit}`;
    const upTo = Number.isFinite(max) ? ` up to ${max}` : "";
    throw MicroError.badRequest(id, `${owner} option ${name} must be a positive number${of}${upTo}, got ${String(value)}`);
  }
  return value;
}
