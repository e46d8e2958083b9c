/**
 * Writes `<proto path>.openapi.json` (option `openapi=true`): the OpenAPI 3.1 document of a proto file's
 * services as the gateway serves them (src/openapi builds it; this file fills its model from descriptors,
 * with proto comments as descriptions). Deterministic: the same descriptors give the same bytes.
 */
import type { DescEnum, DescField, DescFile, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { NULL_VALUE, openApiDocument, type ApiModel, type EnumModel, type FieldModel, type FieldType, type MessageModel, type MethodModel } from "../openapi/index.js";
import { endpointNameOf } from "../proto/endpoint.js";
import { SCALAR_NAMES } from "../proto/scalars.js";
import { wellKnownJson } from "../proto/well-known.js";
import { deps } from "./deps.js";
import { httpBindings } from "./http.js";

/** The file name written beside `<file>.micro.ts` (`greeter/v1/greeter.openapi.json`). */
export function openApiFileName(file: DescFile): string {
  return `${file.name}.openapi.json`;
}

/** A descriptor's comments as plain text (leading, then trailing), or undefined. */
function commentText(desc: DescService | DescMethod | DescMessage | DescField | DescEnum): string | undefined {
  const comments = deps.getComments(desc);
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
  return parts.length > 0 ? parts.join("\n\n") : undefined;
}

/**
 * The registry name a proto service is documented under (the gateway's rpc routes start with it): `service`
 * when given (option `openapi_service`), else the proto service name lower-cased without a `Service` suffix
 * (`GreeterService` → `greeter`, as `micro new` names services).
 */
export function documentedServiceName(service: DescService, given: string | undefined): string {
  if (given) return given;
  const name = service.name.endsWith("Service") && service.name.length > "Service".length ? service.name.slice(0, -"Service".length) : service.name;
  return name.toLowerCase();
}

class ModelBuilder {
  readonly messages = new Map<string, MessageModel>();
  readonly enums = new Map<string, EnumModel>();

  private fieldType(field: DescField): FieldType {
    const kind = field.fieldKind === "list" ? field.listKind : field.fieldKind === "map" ? field.mapKind : field.fieldKind;
    if (kind === "scalar") return { kind: "scalar", scalar: SCALAR_NAMES[(field as { scalar: number }).scalar]! };
    if (kind === "enum") {
      const e = (field as { enum: DescEnum }).enum;
      this.addEnum(e);
      return { kind: "enum", typeName: e.typeName };
    }
    const m = (field as { message: DescMessage }).message;
    this.addMessage(m);
    return { kind: "message", typeName: m.typeName };
  }

  addEnum(e: DescEnum): void {
    if (this.enums.has(e.typeName) || e.typeName === NULL_VALUE) return;
    const description = commentText(e);
    this.enums.set(e.typeName, { typeName: e.typeName, ...(description ? { description } : {}), values: e.values.map((v) => v.name) });
  }

  addMessage(m: DescMessage): void {
    if (this.messages.has(m.typeName) || wellKnownJson(m.typeName)) return;
    const fields: FieldModel[] = [];
    const description = commentText(m);
    // Set before the fields: a recursive message refers to itself by `$ref`.
    this.messages.set(m.typeName, { typeName: m.typeName, ...(description ? { description } : {}), fields });
    for (const f of m.fields) {
      const type = this.fieldType(f);
      const doc = commentText(f);
      fields.push({
        name: f.name,
        jsonName: f.jsonName,
        type,
        ...(f.fieldKind === "list" ? { label: "repeated" as const } : f.fieldKind === "map" ? { label: "map" as const, mapKey: SCALAR_NAMES[f.mapKey]! } : {}),
        ...(f.oneof ? { oneof: f.oneof.name } : {}),
        ...(doc ? { description: doc } : {}),
        ...(f.deprecated ? { deprecated: true } : {}),
      });
    }
  }
}

/** The OpenAPI document of the file's services, as JSON text (2-space indented, final newline). */
export function generateOpenApi(file: DescFile, serviceName: string | undefined): string {
  const builder = new ModelBuilder();
  const methods: MethodModel[] = [];
  for (const service of file.services) {
    const registered = documentedServiceName(service, serviceName);
    for (const m of service.methods) {
      builder.addMessage(m.input);
      builder.addMessage(m.output);
      const description = commentText(m);
      methods.push({
        service: registered,
        endpoint: endpointNameOf(service.name, m.name),
        kind: m.methodKind,
        input: m.input.typeName,
        output: m.output.typeName,
        http: httpBindings(m),
        tag: service.typeName,
        ...(description ? { description } : {}),
        ...(m.deprecated || service.deprecated ? { deprecated: true } : {}),
      });
    }
  }
  const model: ApiModel = {
    title: file.proto.package || file.name,
    version: "0.0.0",
    description: `Generated by protoc-gen-micro from ${file.proto.name}.`,
    tags: file.services.map((s) => {
      const d = commentText(s);
      return { name: s.typeName, ...(d ? { description: d } : {}) };
    }),
    methods,
    messages: builder.messages,
    enums: builder.enums,
  };
  return `${JSON.stringify(openApiDocument(model), null, 2)}\n`;
}
