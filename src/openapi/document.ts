/**
 * The OpenAPI 3.1 document of an {@link ApiModel}: one operation per `google.api.http` binding (path
 * variables as path parameters, the body `*` or one field, the other top-level fields as query parameters when
 * the body does not take them) and, for methods without bindings, the gateway's rpc route
 * `POST /<service>/<method>`; responses in the proto3 JSON mapping, server streams as NDJSON and SSE, errors
 * as `{id, code, detail, status}`. The same model gives the same bytes: keys are emitted in a fixed order.
 */
import { rpcRoutePath } from "../http/rpc-route.js";
import { parseTemplate, type PathTemplate } from "../http/template.js";
import { isSingleValueWellKnown } from "../proto/well-known.js";
import { protoJsonName } from "../proto/json-name.js";
import type { ApiModel, FieldModel, MessageModel, MethodModel, RuleModel } from "./model.js";
import { enumSchema, ERROR_SCHEMA, fieldSchema, messageSchema, schemaRef, typeSchema, type Schema } from "./schema.js";

/** An OpenAPI document (plain JSON data). */
export type OpenApiDocument = { [key: string]: unknown };

/** The schema name of micro's error body. */
export const ERROR_SCHEMA_NAME = "micro.Error";

/** HTTP methods an OpenAPI path item can hold, in the order they are written. */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

export interface DocumentOptions {
  /** Prefix of the service names the gateway serves (`--namespace`): rpc routes are relative to it. */
  readonly namespace?: string;
  /** `servers` of the document (default none: relative to where it is served). */
  readonly servers?: readonly { url: string; description?: string }[];
}

/** Find a field by proto name or JSON name. */
function fieldNamed(message: MessageModel | undefined, name: string): FieldModel | undefined {
  if (!message) return undefined;
  return message.fields.find((f) => f.name === name) ?? message.fields.find((f) => f.jsonName === name || f.jsonName === protoJsonName(name));
}

/** The field a dotted path names, walking message fields. */
function fieldAt(model: ApiModel, message: MessageModel | undefined, path: readonly string[]): FieldModel | undefined {
  let current = message;
  let field: FieldModel | undefined;
  for (const part of path) {
    field = fieldNamed(current, part);
    if (!field) return undefined;
    current = field.type.kind === "message" && field.label === undefined ? model.messages.get(field.type.typeName) : undefined;
  }
  return field;
}

/** A field a URL value can hold: a scalar, an enum or a single-value well-known type, single or repeated. */
function urlField(field: FieldModel): boolean {
  if (field.label === "map") return false;
  const t = field.type;
  return t.kind === "scalar" || t.kind === "enum" || (t.kind === "message" && isSingleValueWellKnown(t.typeName));
}

/** The OpenAPI path of a template, and the names of its path parameters with the template part each covers. */
function openApiPath(template: PathTemplate): { path: string; params: { name: string; field?: readonly string[]; pattern: string }[] } {
  const parts: string[] = [];
  const params: { name: string; field?: readonly string[]; pattern: string }[] = [];
  const text = (i: number): string => {
    const s = template.segments[i]!;
    return s.kind === "literal" ? s.value : s.kind === "star" ? "*" : "**";
  };
  let wildcard = 0;
  for (let i = 0; i < template.segments.length; ) {
    const v = template.variables.find((x) => x.start === i);
    if (v) {
      const end = v.count < 0 ? template.segments.length : i + v.count;
      const name = v.field.join(".");
      const covered = Array.from({ length: end - i }, (_, k) => text(i + k)).join("/");
      parts.push(`{${name}}`);
      params.push({ name, field: v.field, pattern: covered });
      i = end;
      continue;
    }
    const s = template.segments[i]!;
    if (s.kind === "literal") parts.push(encodeURIComponent(s.value).replace(/%40/g, "@").replace(/%3A/gi, ":"));
    else {
      const name = `wildcard${++wildcard}`;
      parts.push(`{${name}}`);
      params.push({ name, pattern: text(i) });
    }
    i++;
  }
  return { path: `/${parts.join("/")}${template.verb !== undefined ? `:${template.verb}` : ""}`, params };
}

function describeMethod(method: MethodModel): Schema {
  const description = method.description?.trim();
  if (!description) return {};
  const first = description.split("\n")[0]!.trim();
  return first === description ? { summary: first } : { summary: first, description };
}

function responses(model: ApiModel, method: MethodModel, responseBody: string | undefined): Schema {
  const output = model.messages.get(method.output);
  const field = responseBody ? fieldNamed(output, responseBody) : undefined;
  const schema = field ? fieldSchema(field, model) : typeSchema({ kind: "message", typeName: method.output }, model);
  const ok =
    method.kind === "server_streaming"
      ? {
          description: "The stream of responses: one JSON value per line (NDJSON), or Server-Sent Events with `Accept: text/event-stream`.",
          content: {
            "application/x-ndjson": { schema },
            "text/event-stream": { schema: { type: "string", description: "`data:` lines, each one JSON response; an `error` event carries the error body." } },
          },
        }
      : { description: "OK", content: { "application/json": { schema } } };
  return {
    "200": ok,
    default: { description: "An error.", content: { "application/json": { schema: schemaRef(ERROR_SCHEMA_NAME) } } },
  };
}

/** The operation of one http binding. */
function ruleOperation(model: ApiModel, method: MethodModel, rule: RuleModel, template: PathTemplate, operationId: string): Schema {
  const input = model.messages.get(method.input);
  const { params } = openApiPath(template);
  const parameters: Schema[] = [];
  const bound = new Set<string>();
  for (const p of params) {
    const field = p.field ? fieldAt(model, input, p.field) : undefined;
    if (p.field) bound.add(p.field[0]!);
    const schema = field && field.label === undefined ? typeSchema(field.type, model) : { type: "string" };
    const matches = p.pattern === "*" ? "" : ` Matches \`${p.pattern}\`.`;
    const description = `${field?.description ? `${field.description} ` : ""}${p.field ? `Sets \`${p.field.join(".")}\`.` : "Any one segment."}${matches}`.trim();
    parameters.push({ name: p.name, in: "path", required: true, description, schema });
  }
  let requestBody: Schema | undefined;
  if (rule.body === "*") {
    requestBody = { required: true, content: { "application/json": { schema: typeSchema({ kind: "message", typeName: method.input }, model) } } };
  } else if (rule.body) {
    const field = fieldNamed(input, rule.body);
    bound.add(field?.name ?? rule.body);
    requestBody = { required: true, content: { "application/json": { schema: field ? fieldSchema(field, model) : {} } } };
  }
  if (rule.body !== "*" && input) {
    for (const f of input.fields) {
      if (bound.has(f.name) || bound.has(f.jsonName) || !urlField(f)) continue;
      parameters.push({
        name: f.jsonName,
        in: "query",
        required: false,
        ...(f.description ? { description: f.description } : {}),
        ...(f.deprecated ? { deprecated: true } : {}),
        schema: f.label === "repeated" ? { type: "array", items: typeSchema(f.type, model) } : typeSchema(f.type, model),
      });
    }
  }
  return operation(model, method, operationId, parameters, requestBody, rule.responseBody);
}

function operation(model: ApiModel, method: MethodModel, operationId: string, parameters: Schema[], requestBody: Schema | undefined, responseBody?: string): Schema {
  return {
    tags: [method.tag],
    ...describeMethod(method),
    operationId,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: responses(model, method, responseBody),
    ...(method.deprecated ? { deprecated: true } : {}),
    "x-micro-service": method.service,
    "x-micro-endpoint": method.endpoint,
  };
}

/** The OpenAPI 3.1 document of `model`. */
export function openApiDocument(model: ApiModel, options: DocumentOptions = {}): OpenApiDocument {
  const paths = new Map<string, Map<string, Schema>>();
  const add = (path: string, verb: string, op: Schema): void => {
    let item = paths.get(path);
    if (!item) paths.set(path, (item = new Map()));
    // The first binding of a path and method wins, as the gateway's route table keeps the first too.
    if (!item.has(verb)) item.set(verb, op);
  };
  for (const method of model.methods) {
    if (method.kind === "client_streaming" || method.kind === "bidi_streaming") continue;
    const base = `${method.service}.${method.endpoint}`;
    if (method.http.length === 0) {
      const path = rpcRoutePath(method.service, method.endpoint, options.namespace);
      if (path === undefined) continue;
      const body = { required: false, content: { "application/json": { schema: typeSchema({ kind: "message", typeName: method.input }, model) } } };
      add(path, "post", operation(model, method, base, [], body));
      continue;
    }
    method.http.forEach((rule, i) => {
      const verb = rule.method.toLowerCase();
      if (!(METHODS as readonly string[]).includes(verb)) return;
      let template: PathTemplate;
      try {
        template = parseTemplate(rule.path);
      } catch {
        return; // a rule the gateway cannot route either (protoc-gen-micro refuses it at generation)
      }
      add(openApiPath(template).path, verb, ruleOperation(model, method, rule, template, i === 0 ? base : `${base}.${i}`));
    });
  }

  const schemas: Schema = {};
  const names = [...model.messages.keys(), ...model.enums.keys(), ERROR_SCHEMA_NAME].sort();
  for (const name of names) {
    const message = model.messages.get(name);
    const e = model.enums.get(name);
    schemas[name] = message ? messageSchema(message, model) : e ? enumSchema(e) : ERROR_SCHEMA;
  }
  const pathObject: Schema = {};
  for (const path of [...paths.keys()].sort()) {
    const item = paths.get(path)!;
    const ordered: Schema = {};
    for (const verb of METHODS) if (item.has(verb)) ordered[verb] = item.get(verb);
    pathObject[path] = ordered;
  }
  return {
    openapi: "3.1.0",
    info: { title: model.title, version: model.version, ...(model.description ? { description: model.description } : {}) },
    ...(options.servers && options.servers.length > 0 ? { servers: options.servers.map((s) => ({ ...s })) } : {}),
    ...(model.tags.length > 0 ? { tags: model.tags.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}) })) } : {}),
    paths: pathObject,
    components: { schemas },
  };
}


