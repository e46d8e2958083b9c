/**
 * Checks the `google.api.http` rules of a file before anything is generated, so that a rule the gateway could
 * never serve fails the build instead of the first request. Each problem names the proto file, the service,
 * the method and the rule (`rule` or `additional_bindings[i]`, with its verb and path):
 * - the pattern: a verb (get, put, post, delete, patch, or a custom kind that is an HTTP method token) and a
 *   path template following the grammar of google/api/http.proto:
 *     Template = "/" Segments [ Verb ] ;  Segments = Segment { "/" Segment } ;
 *     Segment  = "*" | "**" | LITERAL | Variable ;  Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *     FieldPath = IDENT { "." IDENT } ;  Verb = ":" LITERAL ;
 *   (`"/"` alone is accepted as the root path, as the gateway serves it); `**` only as the last segment, no
 *   variable bound twice;
 * - each path variable names a field of the request, through singular message fields for `a.b`, and ends on a
 *   field that is neither repeated nor a map, of a scalar, enum, or well-known type written as a JSON string
 *   (the schema: path variables must not refer to repeated or mapped fields);
 * - `body` is `*` or a top-level field of the request, `response_body` a top-level field of the response (the
 *   schema requires top-level fields);
 * - no two rules in the file have the same verb and the same path (variables compared by what they match:
 *   `/v1/{id}` and `/v1/{name}` are the same path).
 */
import type { DescField, DescFile, DescMessage, DescMethod } from "@bufbuild/protobuf";
import { parseTemplate as parsePathTemplate } from "../http/template.js";
import { isSingleValueWellKnown } from "../proto/well-known.js";
import { writtenRules, type WrittenRule } from "./http.js";

/** Rules that cannot work, one message per problem; the plugin writes nothing when there is one. */
export class HttpRuleError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "HttpRuleError";
  }
}

/** A parsed template: the variables' field paths and the shape (variables replaced by what they match). */
export interface ParsedTemplate {
  readonly variables: readonly string[];
  readonly shape: string;
}

/** An HTTP method is an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parse a path template with the one grammar the gateway routes by (src/http/template.ts); throws an `Error` saying what is wrong. */
export function parseTemplate(template: string): ParsedTemplate {
  const parsed = parsePathTemplate(template);
  return { variables: parsed.variables.map((v) => v.field.join(".")), shape: parsed.shape };
}

function fieldNamed(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((f) => f.name === name);
}

function noField(name: string, message: DescMessage): string {
  const names = message.fields.map((f) => f.name);
  return `"${name}" names no field of ${message.typeName} (${names.length > 0 ? `fields: ${names.join(", ")}` : "it has no fields"})`;
}

/** Why the path variable `path` cannot be bound in `request`, or undefined when it can. */
function variableProblem(request: DescMessage, path: string): string | undefined {
  let message = request;
  const parts = path.split(".");
  for (let k = 0; k < parts.length; k++) {
    const field = fieldNamed(message, parts[k]!);
    if (field === undefined) return k === 0 ? `path variable ${noField(path, message)}` : `path variable "${path}": ${noField(parts[k]!, message)}`;
    const last = k === parts.length - 1;
    if (field.fieldKind === "list" || field.fieldKind === "map") {
      return `path variable "${path}": ${field.parent.typeName}.${field.name} is a ${field.fieldKind === "list" ? "repeated" : "map"} field; a path variable must name a singular field`;
    }
    if (!last) {
      if (field.fieldKind !== "message") return `path variable "${path}": ${field.parent.typeName}.${field.name} is not a message, so "${parts[k + 1]}" cannot be one of its fields`;
      message = field.message;
    } else if (field.fieldKind === "message" && !isSingleValueWellKnown(field.message.typeName)) {
      return `path variable "${path}": ${field.parent.typeName}.${field.name} is a message (${field.message.typeName}); a path variable must name a scalar, enum or well-known type written as a string`;
    }
  }
  return undefined;
}

function topLevelProblem(option: "body" | "response_body", name: string, message: DescMessage): string | undefined {
  if (option === "body" && name === "*") return undefined;
  if (name.includes(".")) return `${option} "${name}" must name a top-level field of ${message.typeName}`;
  if (fieldNamed(message, name) === undefined) return `${option} ${noField(name, message)}`;
  return undefined;
}

const standardVerbs = ["GET", "PUT", "POST", "DELETE", "PATCH"];

/** `google.api.http rule get "/v1/things/{id}"`, as the rule is written. */
function describeRule(rule: WrittenRule): string {
  const path = JSON.stringify(rule.path ?? "");
  const pattern =
    rule.method === undefined || rule.method === ""
      ? "(no pattern)"
      : standardVerbs.includes(rule.method)
        ? `${rule.method.toLowerCase()} ${path}`
        : `custom { kind: ${JSON.stringify(rule.method)} path: ${path} }`;
  return `google.api.http ${rule.name} ${pattern}`;
}

function where(method: DescMethod, rule: WrittenRule): string {
  return `${method.parent.file.proto.name}: service ${method.parent.typeName}, method ${method.name}, ${describeRule(rule)}`;
}

/** The problems of the file's `google.api.http` rules (empty when they all can work). */
export function httpRuleProblems(file: DescFile): string[] {
  const problems: string[] = [];
  /** `VERB shape` → where it was first seen. */
  const seen = new Map<string, string>();
  for (const service of file.services) {
    for (const method of service.methods) {
      for (const rule of writtenRules(method)) {
        const at = where(method, rule);
        const problem = (text: string): void => {
          problems.push(`${at}: ${text}`);
        };
        if (rule.method === undefined || rule.method === "" || rule.path === undefined || rule.path === "") {
          problem(rule.method === undefined || rule.method === "" ? "no pattern (set one of get, put, post, delete, patch, custom)" : "empty path");
          continue;
        }
        if (!TOKEN.test(rule.method)) problem(`custom kind ${JSON.stringify(rule.method)} is not an HTTP method`);
        let template: ParsedTemplate;
        try {
          template = parseTemplate(rule.path);
        } catch (err) {
          problem(`malformed path template: ${(err as Error).message}`);
          continue;
        }
        for (const variable of template.variables) {
          const p = variableProblem(method.input, variable);
          if (p !== undefined) problem(p);
        }
        if (rule.body !== undefined && rule.body !== "") {
          const p = topLevelProblem("body", rule.body, method.input);
          if (p !== undefined) problem(p);
        }
        if (rule.responseBody !== undefined && rule.responseBody !== "") {
          const p = topLevelProblem("response_body", rule.responseBody, method.output);
          if (p !== undefined) problem(p);
        }
        const key = `${rule.method.toUpperCase()} ${template.shape}`;
        const first = seen.get(key);
        if (first !== undefined) problem(`same verb and path as ${first}`);
        else seen.set(key, `service ${service.typeName}, method ${method.name}, ${describeRule(rule)}`);
      }
    }
  }
  return problems;
}
