/**
 * `google.api.http` path templates, parsed by one grammar for everything that reads them: the gateway, which
 * routes requests by them, and protoc-gen-micro, which refuses a rule the gateway could never serve. This
 * folder imports nothing, so every other folder may import it.
 *
 *   Template = "/" Segments [ Verb ] ;  Segments = Segment { "/" Segment } ;
 *   Segment  = "*" | "**" | LITERAL | Variable ;  Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *   FieldPath = IDENT { "." IDENT } ;  Verb = ":" LITERAL ;
 *
 * (google/api/http.proto). `"/"` alone is the root path; `**` only as the last segment; no variable bound twice.
 */

/** One segment of a template: a literal (percent-decoded), `*` or `**`. */
export type TemplateSegment = { readonly kind: "literal"; readonly value: string } | { readonly kind: "star" } | { readonly kind: "starstar" };

/** A path variable: its field path and the segments it covers. */
export interface TemplateVariable {
  /** Field path, e.g. `["book", "name"]`. */
  readonly field: readonly string[];
  /** Index of the first segment it covers and how many (`-1` = the rest of the path, for `**`). */
  readonly start: number;
  readonly count: number;
}

/** A parsed path template. */
export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  readonly verb?: string;
  /** Literal segments count: more literals make a more specific route. */
  readonly literals: number;
  /** The template with variables replaced by what they match (`/v1/{id}` → `/v1/*`): equal shapes match the same paths. */
  readonly shape: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** RFC 3986 unreserved, sub-delims (but the template's own `*` and `=`), `@`, and percent-encoded octets. */
const LITERAL = /^(?:[A-Za-z0-9\-._~!$&'()+,;@]|%[0-9A-Fa-f]{2})+$/;

function decodeLiteral(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Parse a path template. @throws Error saying what is wrong with it (`must start with "/"`, `unbalanced "{" at offset 10`, …). */
export function parseTemplate(template: string): PathTemplate {
  if (!template.startsWith("/")) throw new Error(`must start with "/"`);
  if (template === "/") return { source: template, segments: [], variables: [], literals: 0, shape: "/" };
  const segs: TemplateSegment[] = [];
  const variables: TemplateVariable[] = [];
  const shape: string[] = [];
  let i = 1;
  const peek = (): string | undefined => template[i];

  const segments = (inVariable: boolean): void => {
    for (;;) {
      segment(inVariable);
      if (peek() !== "/") return;
      i++;
    }
  };

  const segment = (inVariable: boolean): void => {
    const c = peek();
    if (c === "{") {
      if (inVariable) throw new Error(`a variable inside a variable at offset ${i}`);
      i++;
      const start = i;
      while (i < template.length && template[i] !== "=" && template[i] !== "}") i++;
      const fieldPath = template.substring(start, i);
      if (!fieldPath.split(".").every((p) => IDENT.test(p))) {
        throw new Error(i >= template.length ? `unbalanced "{" at offset ${start - 1}` : `bad field path "${fieldPath}" in a variable`);
      }
      if (variables.some((v) => v.field.join(".") === fieldPath)) throw new Error(`variable "${fieldPath}" bound twice`);
      const first = segs.length;
      if (peek() === "=") {
        i++;
        segments(true);
      } else {
        segs.push({ kind: "star" });
        shape.push("*");
      }
      if (peek() !== "}") throw new Error(peek() === undefined ? `unbalanced "{" at offset ${start - 1}` : `unexpected "${peek()}" at offset ${i} in a variable`);
      i++;
      const rest = segs.slice(first).some((s) => s.kind === "starstar");
      variables.push({ field: fieldPath.split("."), start: first, count: rest ? -1 : segs.length - first });
      return;
    }
    if (c === "*") {
      const wildcard = template[i + 1] === "*" ? "**" : "*";
      i += wildcard.length;
      const next = peek();
      if (next !== undefined && next !== "/" && next !== ":" && next !== "}") throw new Error(`"${wildcard}" followed by "${next}" in one segment`);
      segs.push({ kind: wildcard === "**" ? "starstar" : "star" });
      shape.push(wildcard);
      return;
    }
    const start = i;
    while (i < template.length && !"/{}:=*".includes(template[i]!)) i++;
    const literal = template.substring(start, i);
    if (literal === "") {
      if (c === undefined || c === "/" || c === ":") throw new Error(`empty segment at offset ${start}`);
      throw new Error(`unexpected "${c}" at offset ${start}`);
    }
    if (!LITERAL.test(literal)) throw new Error(`bad literal segment "${literal}"`);
    if (peek() === "{" || peek() === "=" || peek() === "*") throw new Error(`unexpected "${peek()}" at offset ${i}`);
    segs.push({ kind: "literal", value: decodeLiteral(literal) });
    shape.push(literal);
  };

  segments(false);
  let verb: string | undefined;
  if (peek() === ":") {
    verb = template.substring(i + 1);
    if (!LITERAL.test(verb)) throw new Error(verb === "" ? `empty verb after ":"` : `bad verb ":${verb}"`);
    i = template.length;
  }
  if (i < template.length) throw new Error(peek() === "}" ? `unbalanced "}" at offset ${i}` : `unexpected "${peek()}" at offset ${i}`);
  const rest = segs.findIndex((s) => s.kind === "starstar");
  if (rest >= 0 && rest !== segs.length - 1) throw new Error(`"**" must be the last segment`);
  return {
    source: template,
    segments: segs,
    variables,
    ...(verb !== undefined ? { verb: decodeLiteral(verb) } : {}),
    literals: segs.filter((s) => s.kind === "literal").length,
    shape: `/${shape.join("/")}${verb === undefined ? "" : `:${verb}`}`,
  };
}
