/**
 * Splitting a prompt entry into arguments, shell style, with JSON as a first-class argument:
 * - whitespace separates arguments; `'…'` is literal; `"…"` honours `\"` and `\\`; an unquoted `\` escapes
 *   the next character, and a `\` ending a line continues the entry on the next one;
 * - an argument that starts with `{` or `[` is JSON: it runs until its brackets balance, spaces and line breaks
 *   included, and brackets inside JSON strings do not count — so `call greeter Greeter.Hello {"name": "John"}`
 *   needs no quotes, and a request may span lines. Line breaks between JSON tokens become spaces (JSON does
 *   not care), so an entry reads the same on one line.
 * An entry whose quote or JSON is still open is incomplete: the prompt asks for another line.
 */

/** What {@link scan} found: the arguments, and what (if anything) is still open at the end. */
export interface Scan {
  readonly tokens: string[];
  /** `'` or `"` (a quote), `json` (brackets not balanced yet), `\` (a trailing backslash), or null: complete. */
  readonly open: "'" | '"' | "json" | "\\" | null;
  /** Whether the text ends inside an argument (no whitespace after the last one). */
  readonly inToken: boolean;
}

const SPACE = /\s/;

/** Scan `text` (lines joined with `\n`) into arguments. Never throws: an open quote or bracket is reported in `open`. */
export function scan(text: string): Scan {
  const tokens: string[] = [];
  let token: string | undefined;
  let open: Scan["open"] = null;
  let depth = 0; // JSON bracket depth
  let jsonString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (open === "'") {
      if (c === "'") open = null;
      else token += c;
    } else if (open === '"') {
      if (c === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\")) token += text[++i];
      else if (c === '"') open = null;
      else token += c;
    } else if (open === "json") {
      if (jsonString) {
        if (c === "\\" && i + 1 < text.length) token += c + text[++i];
        else {
          if (c === '"') jsonString = false;
          token += c;
        }
      } else if (c === '"') {
        jsonString = true;
        token += c;
      } else {
        if (c === "{" || c === "[") depth++;
        else if (c === "}" || c === "]") depth--;
        token += c === "\n" || c === "\r" ? " " : c;
        if (depth === 0) open = null;
      }
    } else if (SPACE.test(c)) {
      if (token !== undefined) tokens.push(token);
      token = undefined;
    } else if (c === "\\") {
      if (i + 1 >= text.length) open = "\\";
      else if (text[i + 1] === "\n") i++; // a line continuation
      else token = (token ?? "") + text[++i];
    } else if (c === "'" || c === '"') {
      token ??= "";
      open = c;
    } else if ((c === "{" || c === "[") && token === undefined) {
      token = c;
      depth = 1;
      open = "json";
    } else token = (token ?? "") + c;
  }
  const inToken = token !== undefined;
  if (token !== undefined) tokens.push(token);
  return { tokens, open, inToken };
}

/** The arguments of a finished entry, or undefined while a quote or JSON is still open (read another line). */
export function tokenize(text: string): string[] | undefined {
  const s = scan(text);
  return s.open === null ? s.tokens : undefined;
}

/**
 * What completion works on: the finished words before the cursor and the word being typed (empty after a
 * space). Undefined inside a quote or JSON, where there is nothing to complete.
 */
export function completionWords(line: string): { words: string[]; current: string } | undefined {
  const s = scan(line);
  if (s.open !== null) return undefined;
  const words = [...s.tokens];
  const current = s.inToken ? words.pop()! : "";
  return { words, current };
}
