/**
 * Message headers as AMQP headers: each metadata key is a header of the same name with its string value;
 * the broker's own keys (`x-micro-*`) are taken off before a handler sees the header.
 */
import { MicroError } from "../../errors/index.js";
import type { Metadata } from "../../metadata/index.js";
import { ID, MAX_NAME_BYTES } from "./options.js";

/** How often a failed message was queued again (set by the broker on redelivery). */
export const REDELIVERIES_HEADER = "x-micro-redeliveries";
/** The topic a message was published to, kept on a redelivered copy (which travels by queue name). */
export const TOPIC_HEADER = "x-micro-topic";
/** Why the last handler failed, on a dead-lettered message. */
export const ERROR_HEADER = "x-micro-error";

const OWN = new Set([REDELIVERIES_HEADER, TOPIC_HEADER, ERROR_HEADER]);

/** The AMQP headers of `header`; a key RabbitMQ cannot carry (over 255 bytes) is a 400. */
export function toHeaders(header: Metadata | undefined, topic: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(header ?? {})) {
    if (Buffer.byteLength(key) > MAX_NAME_BYTES) throw MicroError.badRequest(ID, `publish to "${topic}": header name "${key.slice(0, 40)}…" exceeds ${MAX_NAME_BYTES} bytes, the most an AMQP header name holds`);
    if (OWN.has(key.toLowerCase())) throw MicroError.badRequest(ID, `publish to "${topic}": header "${key}" is reserved by the RabbitMQ broker`);
    headers[key] = String(value);
  }
  return headers;
}

/** The metadata of received AMQP headers, without the broker's own keys; non-string values as text. */
export function fromHeaders(headers: Record<string, unknown>): Record<string, string> {
  const header: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (OWN.has(key) || value === undefined || value === null) continue;
    header[key] = Buffer.isBuffer(value) ? value.toString("utf8") : typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return header;
}
