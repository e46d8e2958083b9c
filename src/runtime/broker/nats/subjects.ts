/**
 * Topics are NATS subjects: dot-separated tokens; `*` matches one token and `>` the rest (subscribe only).
 * These helpers validate topics, test whether a JetStream stream's subjects cover a topic, and derive
 * consumer names (which may not contain `.`, `*`, `>` or whitespace).
 */
import { MicroError } from "../../errors/index.js";
import { checkTopic } from "../validate.js";
import { ID } from "./options.js";

/** Throw a clear error (400) unless `topic` is a valid subject (wildcards only when `wildcards`). */
export function assertTopic(topic: string, wildcards: boolean): void {
  checkTopic(ID, topic);
  if (/\s/.test(topic)) throw MicroError.badRequest(ID, `topic "${topic}" contains whitespace; NATS subjects are dot-separated tokens without spaces`);
  const tokens = topic.split(".");
  tokens.forEach((token, i) => {
    if (token === "") throw MicroError.badRequest(ID, `topic "${topic}" has an empty token; NATS subjects look like "orders.created"`);
    if (token.includes("*") || token.includes(">")) {
      if (!wildcards) throw MicroError.badRequest(ID, `cannot publish to "${topic}": wildcards (* and >) are for subscribing only`);
      if (token.length > 1) throw MicroError.badRequest(ID, `topic "${topic}": a wildcard must be a whole token (a.*.c, a.>)`);
      if (token === ">" && i !== tokens.length - 1) throw MicroError.badRequest(ID, `topic "${topic}": > may only be the last token`);
    }
  });
}

/** True when subject pattern `pattern` matches every subject `topic` can match. */
export function covers(pattern: string, topic: string): boolean {
  const p = pattern.split(".");
  const t = topic.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return i < t.length;
    if (i >= t.length) return false;
    if (p[i] === "*") {
      if (t[i] === ">") return false;
      continue;
    }
    if (p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/** A JetStream consumer name from free text: disallowed characters become `_`. */
export function consumerName(text: string): string {
  return text.replace(/[.*>\s\\/]/g, "_");
}
