/**
 * Reading a chat message as a command: the words (quotes group words), and the raw text after the first
 * few words (the JSON of `call` and `publish`, kept exactly as typed).
 */

/** A message split into words; `rest(n)` is the text after the n-th word, as typed. */
export interface ParsedMessage {
  readonly words: readonly string[];
  rest(n: number): string;
}

/**
 * Undo what Slack does to typed text: it escapes `&`, `<` and `>` as entities, and its clients turn straight
 * quotes into typographic ones, which would make typed JSON invalid. (Slack's input only: text from other
 * inputs is taken as it came.)
 */
export function normalizeSlackText(text: string): string {
  return text
    .replace(/[\u201c\u201d\u201e\u201f\u2033]/g, '"')
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .trim();
}

/** Split on white space; "double" or 'single' quotes group words (the quotes are removed). */
export function parseMessage(text: string): ParsedMessage {
  const words: string[] = [];
  const ends: number[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let word = "";
    while (i < text.length && !/\s/.test(text[i]!)) {
      const quote = text[i];
      if (quote === '"' || quote === "'") {
        const close = text.indexOf(quote, i + 1);
        if (close === -1) {
          word += text.slice(i);
          i = text.length;
        } else {
          word += text.slice(i + 1, close);
          i = close + 1;
        }
      } else word += text[i++];
    }
    words.push(word);
    ends.push(i);
  }
  return { words, rest: (n) => (n <= 0 ? text.trim() : n > ends.length ? "" : text.slice(ends[n - 1]).trim()) };
}
