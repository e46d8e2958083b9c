/**
 * Proto comments as text: the one cleanup (one leading space per line dropped, trimmed) for the JSDoc of the
 * generated code and the descriptions of the OpenAPI documents.
 */
import type { Comments } from "./deps.js";

/** The leading and trailing comments, each cleaned up; empty ones left out. */
export function commentParts(comments: Comments): string[] {
  const parts: string[] = [];
  for (const c of [comments.leading, comments.trailing]) {
    if (c === undefined) continue;
    const text = c
      .replace(/\n$/, "")
      .split("\n")
      .map((l) => (l.startsWith(" ") ? l.substring(1) : l))
      .join("\n")
      .trim();
    if (text.length > 0) parts.push(text);
  }
  return parts;
}
