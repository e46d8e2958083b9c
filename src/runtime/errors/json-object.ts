/**
 * The one refusal every JSON edge uses for a request that is not a JSON object (`micro call`, the gateway's
 * bodies and WebSocket frames, the server's JSON decoding): `request must be a JSON object`, then what was given.
 */

/** The fixed start of the refusal, shared by every edge that checks it. */
export const NOT_AN_OBJECT = "request must be a JSON object";

/** A JSON value as text, shortened to `max` characters (`...` at the end): how every error quotes a value. */
export function jsonExcerpt(value: unknown, max = 40): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** What a JSON value is, with a short excerpt: `an array [1,2]`, `a string "hi"`, `null`. */
export function describeJsonValue(value: unknown): string {
  const excerpt = jsonExcerpt(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array ${excerpt}`;
  if (typeof value === "string") return `a string ${excerpt}`;
  if (typeof value === "number") return `a number ${excerpt}`;
  if (typeof value === "boolean") return `a boolean ${excerpt}`;
  return excerpt;
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The refusal's text for `value`: `request must be a JSON object, got an array [1,2]`. */
export function notAnObjectMessage(value: unknown): string {
  return `${NOT_AN_OBJECT}, got ${describeJsonValue(value)}`;
}
