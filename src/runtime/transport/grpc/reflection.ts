/**
 * gRPC server reflection (`grpc.reflection.v1.ServerReflection` and the older `grpc.reflection.v1alpha` that
 * many tools still ask) as ordinary micro service definitions and one handler, so that grpcurl, Postman or
 * grpc-js's reflection client can list a server's services and call them without .proto files.
 *
 * What it answers from: the `fileDescriptors` protoc-gen-micro puts on every generated `ServiceDefinition`
 * (the service's file and the files it imports), the well-known types of @bufbuild/protobuf/wkt, and the
 * descriptors of health and reflection themselves (built here).
 *
 * - `list_services`: the full names of every service the server handles (health and reflection included);
 * - `file_by_filename`, `file_containing_symbol` (a service, method, message, enum or extension): the file
 *   first, then every file it imports, transitively (serialized `FileDescriptorProto`s);
 * - `file_containing_extension`: NOT_FOUND (generated services carry no extension index);
 * - `all_extension_numbers_of_type`: an empty list for a known message, NOT_FOUND otherwise;
 * - an unknown file or symbol, or an empty request: an error response (NOT_FOUND / INVALID_ARGUMENT), and the
 *   stream goes on.
 *
 * {@link grpcStandardServices} adds health and both reflection versions to a server as internal handlers
 * (served, not published in the registry).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as wkt from "@bufbuild/protobuf/wkt";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type DescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { MessageCodec } from "../../codec/index.js";
import type { ServiceDefinition } from "../../definition/index.js";
import { MicroError } from "../../errors/index.js";
import { protoJsonName } from "../../../proto/json-name.js";
import { Health, healthHandler, type StandardServicesHost } from "./health.js";

export type { StandardServicesHost } from "./health.js";

/** `ServerReflectionRequest`: `host` and one of the requests. */
export interface ReflectionRequest {
  host: string;
  request?:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } };
}

/** `ServerReflectionResponse`: the request it answers and one of the responses. */
export interface ReflectionResponse {
  validHost: string;
  originalRequest?: ReflectionRequest;
  response?:
    | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
    | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
    | { case: "listServicesResponse"; value: { service: { name: string }[] } }
    | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };
}

/** gRPC status codes used in error responses. */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;

const LD = WireType.LengthDelimited;
const STRING_CASES = { 3: "fileByFilename", 4: "fileContainingSymbol", 6: "allExtensionNumbersOfType", 7: "listServices" } as const;
const STRING_FIELDS: Record<string, number> = { fileByFilename: 3, fileContainingSymbol: 4, allExtensionNumbersOfType: 6, listServices: 7 };

function writeRequest(w: BinaryWriter, m: ReflectionRequest): BinaryWriter {
  if (m.host !== "") w.tag(1, LD).string(m.host);
  const r = m.request;
  if (r === undefined) return w;
  if (r.case === "fileContainingExtension") {
    w.tag(5, LD).fork();
    if (r.value.containingType !== "") w.tag(1, LD).string(r.value.containingType);
    if (r.value.extensionNumber !== 0) w.tag(2, WireType.Varint).int32(r.value.extensionNumber);
    w.join();
  } else w.tag(STRING_FIELDS[r.case]!, LD).string(r.value);
  return w;
}

function readRequest(bytes: Uint8Array): ReflectionRequest {
  const r = new BinaryReader(bytes);
  const m: ReflectionRequest = { host: "" };
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (field === 1 && wireType === LD) m.host = r.string();
    else if (field in STRING_CASES && wireType === LD) m.request = { case: STRING_CASES[field as keyof typeof STRING_CASES], value: r.string() };
    else if (field === 5 && wireType === LD) {
      const sub = new BinaryReader(r.bytes());
      const value = { containingType: "", extensionNumber: 0 };
      while (sub.pos < sub.len) {
        const [f, t] = sub.tag();
        if (f === 1 && t === LD) value.containingType = sub.string();
        else if (f === 2 && t === WireType.Varint) value.extensionNumber = sub.int32();
        else sub.skip(t, f);
      }
      m.request = { case: "fileContainingExtension", value };
    } else r.skip(wireType, field);
  }
  return m;
}

function writeResponse(m: ReflectionResponse): Uint8Array {
  const w = new BinaryWriter();
  if (m.validHost !== "") w.tag(1, LD).string(m.validHost);
  if (m.originalRequest !== undefined) writeRequest(w.tag(2, LD).fork(), m.originalRequest).join();
  const r = m.response;
  if (r?.case === "fileDescriptorResponse") {
    w.tag(4, LD).fork();
    for (const f of r.value.fileDescriptorProto) w.tag(1, LD).bytes(f);
    w.join();
  } else if (r?.case === "allExtensionNumbersResponse") {
    w.tag(5, LD).fork();
    if (r.value.baseTypeName !== "") w.tag(1, LD).string(r.value.baseTypeName);
    if (r.value.extensionNumber.length > 0) {
      w.tag(2, LD).fork();
      for (const n of r.value.extensionNumber) w.int32(n);
      w.join();
    }
    w.join();
  } else if (r?.case === "listServicesResponse") {
    w.tag(6, LD).fork();
    for (const s of r.value.service) w.tag(1, LD).fork().tag(1, LD).string(s.name).join();
    w.join();
  } else if (r?.case === "errorResponse") {
    w.tag(7, LD).fork();
    if (r.value.errorCode !== 0) w.tag(1, WireType.Varint).int32(r.value.errorCode);
    if (r.value.errorMessage !== "") w.tag(2, LD).string(r.value.errorMessage);
    w.join();
  }
  return w.finish();
}

/** Calls `each(field, wireType)` for every field of `bytes`; `each` reads the value or returns false to skip it. */
function fields(bytes: Uint8Array, each: (r: BinaryReader, field: number, wireType: WireType) => boolean): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wireType] = r.tag();
    if (!each(r, field, wireType)) r.skip(wireType, field);
  }
}

function readResponse(bytes: Uint8Array): ReflectionResponse {
  const m: ReflectionResponse = { validHost: "" };
  fields(bytes, (r, field, t) => {
    if (t !== LD) return false;
    if (field === 1) m.validHost = r.string();
    else if (field === 2) m.originalRequest = readRequest(r.bytes());
    else if (field === 4) {
      const fileDescriptorProto: Uint8Array[] = [];
      fields(r.bytes(), (s, f, st) => f === 1 && st === LD && (fileDescriptorProto.push(s.bytes()), true));
      m.response = { case: "fileDescriptorResponse", value: { fileDescriptorProto } };
    } else if (field === 5) {
      const value = { baseTypeName: "", extensionNumber: [] as number[] };
      fields(r.bytes(), (s, f, st) => {
        if (f === 1 && st === LD) value.baseTypeName = s.string();
        else if (f === 2 && st === LD) {
          const packed = new BinaryReader(s.bytes());
          while (packed.pos < packed.len) value.extensionNumber.push(packed.int32());
        } else if (f === 2 && st === WireType.Varint) value.extensionNumber.push(s.int32());
        else return false;
        return true;
      });
      m.response = { case: "allExtensionNumbersResponse", value };
    } else if (field === 6) {
      const service: { name: string }[] = [];
      fields(r.bytes(), (s, f, st) => {
        if (f !== 1 || st !== LD) return false;
        let name = "";
        fields(s.bytes(), (n, nf, nt) => nf === 1 && nt === LD && ((name = n.string()), true));
        service.push({ name });
        return true;
      });
      m.response = { case: "listServicesResponse", value: { service } };
    } else if (field === 7) {
      const value = { errorCode: 0, errorMessage: "" };
      fields(r.bytes(), (s, f, st) => {
        if (f === 1 && st === WireType.Varint) value.errorCode = s.int32();
        else if (f === 2 && st === LD) value.errorMessage = s.string();
        else return false;
        return true;
      });
      m.response = { case: "errorResponse", value };
    } else return false;
    return true;
  });
  return m;
}

function requestFromJson(json: unknown): ReflectionRequest {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw MicroError.badRequest("micro.codec", `ServerReflectionRequest: expected a JSON object, got ${JSON.stringify(json)}`);
  const o = json as Record<string, unknown>;
  const m: ReflectionRequest = { host: typeof o.host === "string" ? o.host : "" };
  for (const key of Object.keys(STRING_FIELDS)) if (typeof o[key] === "string") m.request = { case: key as keyof typeof STRING_FIELDS & "listServices", value: o[key] as string };
  const ext = o.fileContainingExtension as { containingType?: unknown; extensionNumber?: unknown } | undefined;
  if (ext !== undefined) m.request = { case: "fileContainingExtension", value: { containingType: String(ext.containingType ?? ""), extensionNumber: Number(ext.extensionNumber ?? 0) } };
  return m;
}

function requestToJson(m: ReflectionRequest): Record<string, unknown> {
  return { ...(m.host !== "" ? { host: m.host } : {}), ...(m.request ? { [m.request.case]: m.request.value } : {}) };
}

/** Codecs of the two messages (the same bytes in v1 and v1alpha; only the type names differ). */
function codecs(pkg: string): { request: MessageCodec<ReflectionRequest>; response: MessageCodec<ReflectionResponse> } {
  return {
    request: {
      typeName: `${pkg}.ServerReflectionRequest`,
      encode: (m) => writeRequest(new BinaryWriter(), m).finish(),
      decode: readRequest,
      fromJSON: requestFromJson,
      toJSON: requestToJson,
    },
    response: {
      typeName: `${pkg}.ServerReflectionResponse`,
      encode: writeResponse,
      decode: readResponse,
      fromJSON: () => {
        throw MicroError.badRequest("micro.codec", `${pkg}.ServerReflectionResponse cannot be read from JSON`);
      },
      toJSON: (m) => ({
        ...(m.validHost !== "" ? { validHost: m.validHost } : {}),
        ...(m.originalRequest ? { originalRequest: requestToJson(m.originalRequest) } : {}),
        ...(m.response?.case === "fileDescriptorResponse"
          ? { fileDescriptorResponse: { fileDescriptorProto: m.response.value.fileDescriptorProto.map((b) => Buffer.from(b).toString("base64")) } }
          : m.response
            ? { [m.response.case]: m.response.value }
            : {}),
      }),
    },
  };
}

function reflectionDefinition(pkg: string, name: string): ServiceDefinition {
  const c = codecs(pkg);
  return {
    name,
    fullName: `${pkg}.ServerReflection`,
    methods: { serverReflectionInfo: { name: "ServerReflectionInfo", kind: "bidi_streaming", input: c.request, output: c.response } },
  };
}

/** `grpc.reflection.v1.ServerReflection` (endpoint `ServerReflection.ServerReflectionInfo`). */
export const ServerReflection: ServiceDefinition = reflectionDefinition("grpc.reflection.v1", "ServerReflection");
/**
 * `grpc.reflection.v1alpha.ServerReflection`. Its micro name is `ServerReflectionV1alpha` (endpoint
 * `ServerReflectionV1alpha.ServerReflectionInfo`) so that it does not clash with v1's endpoint on one server;
 * over gRPC it is addressed by its full name as usual.
 */
export const ServerReflectionV1alpha: ServiceDefinition = reflectionDefinition("grpc.reflection.v1alpha", "ServerReflectionV1alpha");

// ---- the descriptors of health and reflection themselves ----

const TYPE = { INT32: 5, STRING: 9, MESSAGE: 11, BYTES: 12, ENUM: 14 } as const;
type FieldSpec = [name: string, number: number, type: number, typeName?: string, repeated?: boolean, oneof?: number];

function message(name: string, specs: FieldSpec[], extra: Partial<Pick<DescriptorProto, "enumType" | "oneofDecl">> = {}): Record<string, unknown> {
  return {
    name,
    field: specs.map(([n, number, type, typeName, repeated, oneof]) => ({
      name: n,
      number,
      label: repeated ? 3 : 1,
      type,
      jsonName: protoJsonName(n),
      ...(typeName !== undefined ? { typeName } : {}),
      ...(oneof !== undefined ? { oneofIndex: oneof } : {}),
    })),
    ...extra,
  };
}

function healthFile(): FileDescriptorProto {
  const p = ".grpc.health.v1.";
  return create(FileDescriptorProtoSchema, {
    name: "grpc/health/v1/health.proto",
    package: "grpc.health.v1",
    syntax: "proto3",
    messageType: [
      message("HealthCheckRequest", [["service", 1, TYPE.STRING]]),
      message("HealthCheckResponse", [["status", 1, TYPE.ENUM, `${p}HealthCheckResponse.ServingStatus`]], {
        enumType: [
          create(wkt.EnumDescriptorProtoSchema, {
            name: "ServingStatus",
            value: ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"].map((name, number) => ({ name, number })),
          }),
        ],
      }),
    ],
    service: [
      {
        name: "Health",
        method: [
          { name: "Check", inputType: `${p}HealthCheckRequest`, outputType: `${p}HealthCheckResponse` },
          { name: "Watch", inputType: `${p}HealthCheckRequest`, outputType: `${p}HealthCheckResponse`, serverStreaming: true },
        ],
      },
    ],
  });
}

function reflectionFile(pkg: string): FileDescriptorProto {
  const p = `.${pkg}.`;
  return create(FileDescriptorProtoSchema, {
    name: pkg === "grpc.reflection.v1" ? "grpc/reflection/v1/reflection.proto" : "grpc/reflection/v1alpha/reflection.proto",
    package: pkg,
    syntax: "proto3",
    messageType: [
      message(
        "ServerReflectionRequest",
        [
          ["host", 1, TYPE.STRING],
          ["file_by_filename", 3, TYPE.STRING, undefined, false, 0],
          ["file_containing_symbol", 4, TYPE.STRING, undefined, false, 0],
          ["file_containing_extension", 5, TYPE.MESSAGE, `${p}ExtensionRequest`, false, 0],
          ["all_extension_numbers_of_type", 6, TYPE.STRING, undefined, false, 0],
          ["list_services", 7, TYPE.STRING, undefined, false, 0],
        ],
        { oneofDecl: [create(wkt.OneofDescriptorProtoSchema, { name: "message_request" })] },
      ),
      message("ExtensionRequest", [["containing_type", 1, TYPE.STRING], ["extension_number", 2, TYPE.INT32]]),
      message(
        "ServerReflectionResponse",
        [
          ["valid_host", 1, TYPE.STRING],
          ["original_request", 2, TYPE.MESSAGE, `${p}ServerReflectionRequest`],
          ["file_descriptor_response", 4, TYPE.MESSAGE, `${p}FileDescriptorResponse`, false, 0],
          ["all_extension_numbers_response", 5, TYPE.MESSAGE, `${p}ExtensionNumberResponse`, false, 0],
          ["list_services_response", 6, TYPE.MESSAGE, `${p}ListServiceResponse`, false, 0],
          ["error_response", 7, TYPE.MESSAGE, `${p}ErrorResponse`, false, 0],
        ],
        { oneofDecl: [create(wkt.OneofDescriptorProtoSchema, { name: "message_response" })] },
      ),
      message("FileDescriptorResponse", [["file_descriptor_proto", 1, TYPE.BYTES, undefined, true]]),
      message("ExtensionNumberResponse", [["base_type_name", 1, TYPE.STRING], ["extension_number", 2, TYPE.INT32, undefined, true]]),
      message("ListServiceResponse", [["service", 1, TYPE.MESSAGE, `${p}ServiceResponse`, true]]),
      message("ServiceResponse", [["name", 1, TYPE.STRING]]),
      message("ErrorResponse", [["error_code", 1, TYPE.INT32], ["error_message", 2, TYPE.STRING]]),
    ],
    service: [
      {
        name: "ServerReflection",
        method: [{ name: "ServerReflectionInfo", inputType: `${p}ServerReflectionRequest`, outputType: `${p}ServerReflectionResponse`, clientStreaming: true, serverStreaming: true }],
      },
    ],
  });
}

let builtIn: FileDescriptorProto[] | undefined;
/** Health's and reflection's own files (built once). */
function builtInFiles(): FileDescriptorProto[] {
  return (builtIn ??= [healthFile(), reflectionFile("grpc.reflection.v1"), reflectionFile("grpc.reflection.v1alpha")]);
}

/** The well-known types' files, by name (google/protobuf/*.proto), from @bufbuild/protobuf/wkt. */
function wellKnown(name: string): FileDescriptorProto | undefined {
  for (const v of Object.values(wkt)) {
    if (v !== null && typeof v === "object" && (v as { kind?: unknown }).kind === "file" && (v as { proto: FileDescriptorProto }).proto.name === name) {
      return (v as { proto: FileDescriptorProto }).proto;
    }
  }
  return undefined;
}

/** Files by name and the file each symbol lives in, for one set of service definitions. */
class DescriptorIndex {
  private readonly files = new Map<string, { proto: FileDescriptorProto; bytes: Uint8Array }>();
  private readonly symbols = new Map<string, string>();

  constructor(definitions: readonly ServiceDefinition[]) {
    for (const f of builtInFiles()) this.add(f);
    for (const d of definitions) {
      if (d.fileDescriptors === undefined) continue;
      const set = fromBinary(FileDescriptorSetSchema, Buffer.from(d.fileDescriptors, "base64"));
      for (const f of set.file) this.add(f);
    }
  }

  private add(proto: FileDescriptorProto): { proto: FileDescriptorProto; bytes: Uint8Array } {
    const known = this.files.get(proto.name);
    if (known) return known;
    const entry = { proto, bytes: toBinary(FileDescriptorProtoSchema, proto) };
    this.files.set(proto.name, entry);
    const prefix = proto.package === "" ? "" : `${proto.package}.`;
    const symbol = (name: string): void => {
      if (!this.symbols.has(name)) this.symbols.set(name, proto.name);
    };
    const walk = (m: DescriptorProto, scope: string): void => {
      const full = scope + m.name;
      symbol(full);
      for (const e of m.enumType) symbol(`${full}.${e.name}`);
      for (const x of m.extension) symbol(`${full}.${x.name}`);
      for (const n of m.nestedType) walk(n, `${full}.`);
    };
    for (const m of proto.messageType) walk(m, prefix);
    for (const e of proto.enumType) symbol(prefix + e.name);
    for (const x of proto.extension) symbol(prefix + x.name);
    for (const s of proto.service) {
      symbol(prefix + s.name);
      for (const m of s.method) symbol(`${prefix}${s.name}.${m.name}`);
    }
    return entry;
  }

  private file(name: string): { proto: FileDescriptorProto; bytes: Uint8Array } | undefined {
    const f = this.files.get(name);
    if (f) return f;
    const w = wellKnown(name);
    return w ? this.add(w) : undefined;
  }

  /** The file and every file it imports, transitively (each once, the file first); undefined when unknown. */
  closure(name: string): Uint8Array[] | undefined {
    const first = this.file(name);
    if (!first) return undefined;
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    const queue = [first];
    while (queue.length > 0) {
      const f = queue.shift()!;
      if (seen.has(f.proto.name)) continue;
      seen.add(f.proto.name);
      out.push(f.bytes);
      for (const d of f.proto.dependency) {
        const dep = this.file(d);
        if (dep && !seen.has(d)) queue.push(dep);
      }
    }
    return out;
  }

  fileOf(symbol: string): string | undefined {
    return this.symbols.get(symbol.replace(/^\./, ""));
  }

  isMessage(symbol: string): boolean {
    const file = this.fileOf(symbol);
    if (file === undefined) return false;
    const proto = this.files.get(file)!.proto;
    const prefix = proto.package === "" ? "" : `${proto.package}.`;
    const find = (list: DescriptorProto[], scope: string): boolean => list.some((m) => scope + m.name === symbol || find(m.nestedType, `${scope}${m.name}.`));
    return find(proto.messageType, prefix);
  }
}

/** The handler of both reflection services for `host` (the index is rebuilt when the set of services changes). */
export function reflectionHandler(host: Pick<StandardServicesHost, "definitions">): {
  serverReflectionInfo(requests: AsyncIterable<ReflectionRequest>): AsyncIterable<ReflectionResponse>;
} {
  let cached: { key: string; index: DescriptorIndex } | undefined;
  const index = (): DescriptorIndex => {
    const definitions = host.definitions();
    const key = definitions.map((d) => `${d.fullName}:${d.fileDescriptors?.length ?? 0}`).join(",");
    if (cached?.key !== key) cached = { key, index: new DescriptorIndex(definitions) };
    return cached.index;
  };
  const error = (errorCode: number, errorMessage: string): ReflectionResponse["response"] => ({ case: "errorResponse", value: { errorCode, errorMessage } });
  const files = (list: Uint8Array[] | undefined, what: string): ReflectionResponse["response"] =>
    list ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: list } } : error(NOT_FOUND, `${what} not found`);

  const answer = (req: ReflectionRequest): ReflectionResponse["response"] => {
    const r = req.request;
    switch (r?.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: [...new Set(host.definitions().map((d) => d.fullName))].map((name) => ({ name })) } };
      case "fileByFilename":
        return files(index().closure(r.value), `file ${JSON.stringify(r.value)}`);
      case "fileContainingSymbol": {
        const ix = index();
        const file = ix.fileOf(r.value);
        return files(file === undefined ? undefined : ix.closure(file), `symbol ${JSON.stringify(r.value)}`);
      }
      case "fileContainingExtension":
        return error(NOT_FOUND, `extension ${r.value.extensionNumber} of ${JSON.stringify(r.value.containingType)} not found`);
      case "allExtensionNumbersOfType":
        return index().isMessage(r.value)
          ? { case: "allExtensionNumbersResponse", value: { baseTypeName: r.value.replace(/^\./, ""), extensionNumber: [] } }
          : error(NOT_FOUND, `type ${JSON.stringify(r.value)} not found`);
      default:
        return error(INVALID_ARGUMENT, "the request names no question (list_services, file_by_filename, file_containing_symbol, …)");
    }
  };

  return {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        const response = answer(req);
        yield { validHost: req.host, originalRequest: req, ...(response ? { response } : {}) };
      }
    },
  };
}

/**
 * Add the standard gRPC services to a server as internal handlers (served, not published in the registry):
 * `grpc.health.v1.Health`, `grpc.reflection.v1.ServerReflection` and `grpc.reflection.v1alpha.ServerReflection`.
 * The grpc transport's server calls it; over tcp they are reachable by their micro endpoints (`Health.Check`, …).
 * @throws TypeError when the server already handles one of their endpoints (e.g. a service of its own named `Health`).
 */
export function grpcStandardServices(host: StandardServicesHost): void {
  host.handle(Health, healthHandler(host), { internal: true });
  const reflection = reflectionHandler(host);
  host.handle(ServerReflection, reflection, { internal: true });
  host.handle(ServerReflectionV1alpha, reflection, { internal: true });
}
