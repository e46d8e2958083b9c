/**
 * Replies as Slack shows them (its `mrkdwn`, which reads fine as plain text elsewhere): JSON and tables in
 * code blocks, and long output cut with a note saying how much was left out.
 */

/** Slack's limit for one message is 40 000 characters; a bot reply far shorter stays readable. Default 3 500. */
export const DEFAULT_MAX_REPLY = 3500;

/** Text in a code block (a block's own back-ticks are broken so they cannot end it early). */
export function codeBlock(text: string): string {
  return "```\n" + text.replace(/```/g, "`\u200b``") + "\n```";
}

/** A value as indented JSON in a code block. */
export function jsonBlock(value: unknown): string {
  return codeBlock(JSON.stringify(value, null, 2));
}

/** Rows under a header, columns padded to line up (in a code block). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return codeBlock([line(header), ...rows.map(line)].join("\n"));
}

/**
 * Cut `text` to `max` characters with a note of how much was left out; a cut inside a code block closes it.
 */
export function truncate(text: string, max = DEFAULT_MAX_REPLY): string {
  if (text.length <= max) return text;
  const reserve = 64; // room for the note and a closing fence
  let head = text.slice(0, Math.max(0, max - reserve));
  const shown = head.length;
  if ((head.match(/```/g)?.length ?? 0) % 2 === 1) head += "\n```";
  return `${head}\n… (output cut: the first ${shown} of ${text.length} characters shown)`;
}
