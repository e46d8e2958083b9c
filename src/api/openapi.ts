/**
 * `GET /openapi.json` on the gateway (rpc handler): the OpenAPI 3.1 document of everything it routes, built by
 * the same code as protoc-gen-micro's `openapi=true` (src/openapi) from what the registry records per endpoint:
 * request and response value trees, method kind, `http` rules and `deprecated`. The registry has no comments
 * and describes messages to a depth of three, so deeper types (and enums) are documented by name only.
 */
import { openApiDocument, type ApiModel, type FieldModel, type FieldType, type MessageModel, type MethodModel, type OpenApiDocument, type TagModel } from "../openapi/index.js";
import { SCALAR_NAMES } from "../proto/scalars.js";
import { wellKnownJson } from "../proto/well-known.js";
import type { ValueRecord } from "../runtime/definition/index.js";
import type { ServiceRecord } from "../runtime/registry/index.js";
import { endpointKind } from "../runtime/target/index.js";
import { endpointRules } from "./routes.js";

const SCALARS = new Set(Object.values(SCALAR_NAMES));

/**
 * The messages described by registry value trees, keyed by full name. Each endpoint describes a type to its own
 * depth, so the fields of every description are merged.
 */
class Messages {
  readonly map = new Map<string, MessageModel>();

  /** Register the message a value tree describes (when it lists fields), merging the fields of earlier descriptions. */
  add(typeName: string, values: readonly ValueRecord[] | undefined): void {
    if (!values || values.length === 0 || wellKnownJson(typeName)) return;
    let known = this.map.get(typeName);
    if (!known) this.map.set(typeName, (known = { typeName, fields: [] }));
    const fields = known.fields as FieldModel[];
    for (const v of values) if (!fields.some((f) => f.jsonName === v.name)) fields.push(this.field(v));
  }

  private field(v: ValueRecord): FieldModel {
    let type = v.type.trim();
    let label: FieldModel["label"];
    let mapKey: string | undefined;
    const map = /^map<\s*([a-z0-9]+)\s*,\s*(.+)>$/.exec(type);
    if (map) {
      label = "map";
      mapKey = map[1];
      type = map[2]!.trim();
    } else if (type.endsWith("[]")) {
      label = "repeated";
      type = type.slice(0, -2);
    }
    let fieldType: FieldType;
    if (SCALARS.has(type)) fieldType = { kind: "scalar", scalar: type };
    else if (v.values && v.values.length > 0) {
      this.add(type, v.values);
      fieldType = { kind: "message", typeName: type };
    } else if (wellKnownJson(type)) fieldType = { kind: "message", typeName: type };
    // An enum, or a message past the registry's depth: documented by name.
    else fieldType = { kind: "unknown", typeName: type };
    return { name: v.name, jsonName: v.name, type: fieldType, ...(label ? { label } : {}), ...(mapKey ? { mapKey } : {}) };
  }
}

/** The OpenAPI document of the services in `records`, with rpc routes relative to `namespace`. */
export function gatewayOpenApi(records: readonly ServiceRecord[], namespace: string): OpenApiDocument {
  const messages = new Messages();
  const methods: MethodModel[] = [];
  const tags: TagModel[] = [];
  const seen = new Set<string>();
  for (const rec of records) {
    if (!tags.some((t) => t.name === rec.name)) tags.push({ name: rec.name });
    for (const ep of [...rec.endpoints].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const key = JSON.stringify([rec.name, ep.name]);
      if (seen.has(key)) continue;
      seen.add(key);
      const input = ep.request?.type ?? "";
      const output = ep.response?.type ?? "";
      messages.add(input, ep.request?.values);
      messages.add(output, ep.response?.values);
      methods.push({
        service: rec.name,
        endpoint: ep.name,
        kind: endpointKind(ep),
        input,
        output,
        http: endpointRules(ep),
        tag: rec.name,
        ...(ep.metadata?.deprecated === "true" ? { deprecated: true } : {}),
      });
    }
  }
  const model: ApiModel = {
    title: "micro api",
    version: "0.0.0",
    description: "The services the gateway routes, from the registry (built by micro-ts from each endpoint's registry record).",
    tags,
    methods,
    messages: messages.map,
    enums: new Map(),
  };
  return openApiDocument(model, { namespace });
}
