/**
 * Reads the `google.api.http` option of a method.
 *
 * The option is an extension (field 72295728 of `google.protobuf.MethodOptions`). The plugin reads it from the
 * method options' unknown fields with protobuf-es' wire reader instead of through a registered extension: the
 * generated code then never imports googleapis, and the plugin works with any copy of `google/api/http.proto`
 * (even one that is not part of the request). Field numbers, from the published schema: HttpRule selector=1,
 * get=2, put=3, post=4, delete=5, patch=6, body=7, custom=8 (CustomHttpPattern kind=1, path=2),
 * additional_bindings=11, response_body=12.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { deps } from "./deps.js";

const { BinaryReader, WireType } = deps;

/** The extension number of `google.api.http` on `MethodOptions`. */
export const HTTP_EXTENSION = 72295728;

/** One binding, in the shape of the runtime's `HttpRule`. */
export interface HttpBinding {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly responseBody?: string;
}

interface ParsedRule {
  method?: string;
  path?: string;
  body?: string;
  responseBody?: string;
  additional: Uint8Array[];
}

const verbs: Record<number, string> = { 2: "GET", 3: "PUT", 4: "POST", 5: "DELETE", 6: "PATCH" };

function parseRule(bytes: Uint8Array): ParsedRule {
  const rule: ParsedRule = { additional: [] };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, no);
      continue;
    }
    switch (no) {
      case 2: case 3: case 4: case 5: case 6:
        rule.method = verbs[no];
        rule.path = reader.string();
        break;
      case 8: {
        // Merge semantics: a repeated occurrence of the message field is merged into the earlier one.
        const custom = new BinaryReader(reader.bytes());
        let kind = rule.method ?? "";
        let path = rule.path ?? "";
        while (custom.pos < custom.len) {
          const [cno, cwt] = custom.tag();
          if (cno === 1 && cwt === WireType.LengthDelimited) kind = custom.string();
          else if (cno === 2 && cwt === WireType.LengthDelimited) path = custom.string();
          else custom.skip(cwt, cno);
        }
        rule.method = kind;
        rule.path = path;
        break;
      }
      case 7:
        rule.body = reader.string();
        break;
      case 12:
        rule.responseBody = reader.string();
        break;
      case 11:
        rule.additional.push(reader.bytes());
        break;
      default:
        reader.skip(wireType, no);
    }
  }
  return rule;
}

/** A rule as written: its name in messages (`rule`, `additional_bindings[0]`) and its fields, unchecked. */
export interface WrittenRule {
  readonly name: string;
  readonly method?: string;
  readonly path?: string;
  readonly body?: string;
  readonly responseBody?: string;
}

/**
 * The method's rules as written: the main rule, then its `additional_bindings` in order (their own
 * `additional_bindings` are ignored, as the schema requires). Empty when the method has no rule.
 */
export function writtenRules(method: DescMethod): WrittenRule[] {
  const unknown = method.proto.options?.$unknown ?? [];
  const parts = unknown.filter((u) => u.no === HTTP_EXTENSION && u.wireType === WireType.LengthDelimited);
  if (parts.length === 0) return [];
  // Concatenating the encoded occurrences is the protobuf way to merge them.
  const chunks = parts.map((u) => new BinaryReader(u.data).bytes());
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  const written = (rule: ParsedRule, name: string): WrittenRule => {
    const { additional: _, ...fields } = rule;
    return { name, ...fields };
  };
  const main = parseRule(all);
  return [written(main, "rule"), ...main.additional.map((a, i) => written(parseRule(a), `additional_bindings[${i}]`))];
}

/**
 * The method's HTTP bindings, in the order of {@link writtenRules}. The plugin checks the rules first
 * (./http-check.ts); a rule without a pattern still throws here.
 */
export function httpBindings(method: DescMethod): HttpBinding[] {
  return writtenRules(method).map((rule) => {
    if (rule.method === undefined || rule.method === "" || rule.path === undefined || rule.path === "") {
      const where = `rpc ${method.parent.typeName}.${method.name}${rule.name === "rule" ? "" : ` ${rule.name}`}`;
      throw new Error(`${where}: google.api.http rule without a pattern (set one of get, put, post, delete, patch, custom)`);
    }
    return {
      method: rule.method,
      path: rule.path,
      ...(rule.body ? { body: rule.body } : {}),
      ...(rule.responseBody ? { responseBody: rule.responseBody } : {}),
    };
  });
}
