/**
 * The standard gRPC services (grpc.health.v1.Health, grpc.reflection.v1 and v1alpha ServerReflection) on a
 * real server over the tcp transport, called with the micro client in binary protobuf: health follows
 * readiness and drain, reflection answers from the generator's file descriptors (a golden file's, i.e. real
 * protoc-gen-micro output) and from its own, and neither is published in the registry.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { cacheSelector, MicroError, newClient, newServer, type RpcClient, type RpcServer, type ServiceDefinition } from "../../../../src/index.js";
import { memoryRegistry } from "../../../../src/runtime/registry/memory/index.js";
import { memoryBroker } from "../../../../src/runtime/broker/memory/index.js";
import { tcpTransport } from "../../../../src/runtime/transport/tcp/index.js";
import { Health, ServingStatus } from "../../../../src/runtime/transport/grpc/health.js";
import { ServerReflection, ServerReflectionV1alpha, grpcStandardServices, type ReflectionRequest, type ReflectionResponse } from "../../../../src/runtime/transport/grpc/reflection.js";
import type { Registry } from "../../../../src/runtime/registry/index.js";
import { Greeter } from "../../../fixtures/runtime/greeter.js";

process.env.MICRO_LOG_LEVEL ??= "silent";

/** The descriptors protoc-gen-micro generated for shop/v1/shop.proto (the golden file is real generator output). */
function goldenDescriptors(): string {
  const text = readFileSync(fileURLToPath(new URL("../../../../../test/golden/ts-proto/shop/v1/shop.micro.ts", import.meta.url)), "utf8");
  const m = /const fileDescriptors = "([^"]+)";/.exec(text);
  assert.ok(m, "the golden file carries fileDescriptors");
  return m[1]!;
}

const Catalog: ServiceDefinition = { ...Greeter, name: "Catalog", fullName: "shop.v1.Catalog", fileDescriptors: goldenDescriptors() };
const greeterImpl = { hello: () => ({ message: "hi" }), stream: async function* () {}, upload: async () => ({ message: "" }), chat: async function* () {} };

let registry: Registry;
let server: RpcServer;
let client: RpcClient;

async function startServer(): Promise<void> {
  server = newServer({ name: "shop", drainTimeout: 60_000, deps: { registry, transport: tcpTransport(), broker: memoryBroker() } });
  server.handle(Catalog, greeterImpl);
  grpcStandardServices(server);
  await server.start();
}

before(async () => {
  registry = memoryRegistry();
  await startServer();
  client = newClient({ deps: { selector: cacheSelector({ registry }), transport: tcpTransport() }, retries: 0 });
});

after(async () => {
  client.close();
  await server.stop();
  await registry.close();
});

const check = (service: string) => client.call({ service: "shop", endpoint: "Health.Check", method: Health.methods.check }, { service });

describe("grpc.health.v1.Health", () => {
  test("Check: SERVING for the server and each service it handles; NOT_FOUND for a service it does not", async () => {
    assert.deepEqual(await check(""), { status: ServingStatus.SERVING });
    assert.deepEqual(await check("shop.v1.Catalog"), { status: ServingStatus.SERVING });
    assert.deepEqual(await check("grpc.health.v1.Health"), { status: ServingStatus.SERVING });
    await assert.rejects(check("nope.v1.Nope"), (e: unknown) => e instanceof MicroError && e.code === 404 && /unknown service "nope\.v1\.Nope"/.test(e.detail));
  });

  test("the standard services are served but not published in the registry", async () => {
    const [record] = await registry.getService("shop");
    assert.deepEqual(record!.endpoints.map((e) => e.name).sort(), ["Catalog.Chat", "Catalog.Hello", "Catalog.Stream", "Catalog.Upload"]);
  });

  test("Watch: SERVICE_UNKNOWN for an unknown name; the current status, then NOT_SERVING when the server drains, and the stream ends", async () => {
    const unknown = client.serverStream({ service: "shop", endpoint: "Health.Watch", method: Health.methods.watch }, { service: "nope" })[Symbol.asyncIterator]();
    assert.deepEqual((await unknown.next()).value, { status: ServingStatus.SERVICE_UNKNOWN });
    await unknown.return?.();

    const seen: number[] = [];
    let stopped: Promise<void> | undefined;
    const watching = (async () => {
      for await (const m of client.serverStream({ service: "shop", endpoint: "Health.Watch", method: Health.methods.watch }, { service: "" }, { address: server.address! })) {
        seen.push(m.status);
        if (seen.length === 1) stopped = server.stop(); // drain begins while the watch is open
      }
    })();
    await watching;
    assert.deepEqual(seen, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    // The watch ended by itself, so the drain (60 s allowed) is not held up by it.
    await stopped;
    await startServer();
  });
});

/** Ask a reflection service the given questions on one stream, in order. */
async function reflect(def: ServiceDefinition, requests: ReflectionRequest[]): Promise<ReflectionResponse[]> {
  const method = def.methods.serverReflectionInfo!;
  const out: ReflectionResponse[] = [];
  async function* source() {
    yield* requests;
  }
  for await (const r of client.bidiStream({ service: "shop", endpoint: `${def.name}.ServerReflectionInfo`, method }, source())) out.push(r as ReflectionResponse);
  return out;
}

const fileNames = (r: ReflectionResponse): string[] => {
  assert.equal(r.response?.case, "fileDescriptorResponse", JSON.stringify(r.response));
  return (r.response!.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
};
const files = (r: ReflectionResponse): FileDescriptorProto[] => (r.response!.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
/** A registry of the answer's first file, its imports resolved from the rest of the answer only. */
const registryOf = (r: ReflectionResponse) => {
  const list = files(r);
  const byName = new Map(list.map((f) => [f.name, f]));
  return createFileRegistry(list[0]!, (name) => byName.get(name));
};

for (const def of [ServerReflection, ServerReflectionV1alpha]) {
  describe(`${def.fullName}`, () => {
    test("list_services names every service, the standard ones included", async () => {
      const [r] = await reflect(def, [{ host: "", request: { case: "listServices", value: "" } }]);
      assert.equal(r!.response?.case, "listServicesResponse");
      const names = (r!.response!.value as { service: { name: string }[] }).service.map((s) => s.name).sort();
      assert.deepEqual(names, ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "shop.v1.Catalog"]);
    });

    test("file_containing_symbol: the file first, then every import, transitively — enough to build a registry", async () => {
      const [service, method, nested, imported] = await reflect(def, [
        { host: "", request: { case: "fileContainingSymbol", value: "shop.v1.Catalog" } },
        { host: "", request: { case: "fileContainingSymbol", value: "shop.v1.Catalog.GetItem" } },
        { host: "", request: { case: "fileContainingSymbol", value: "shop.v1.Item.Kind" } },
        { host: "", request: { case: "fileContainingSymbol", value: "common.v1.Page.Cursor" } },
      ]);
      const names = fileNames(service!);
      assert.equal(names[0], "shop/v1/shop.proto");
      for (const dep of ["common/v1/common.proto", "google/api/annotations.proto", "google/api/http.proto", "google/protobuf/descriptor.proto", "google/protobuf/timestamp.proto", "google/protobuf/empty.proto"]) {
        assert.ok(names.includes(dep), `${dep} in ${names.join(", ")}`);
      }
      assert.equal(new Set(names).size, names.length, "each file once");
      assert.equal(fileNames(method!)[0], "shop/v1/shop.proto");
      assert.equal(fileNames(nested!)[0], "shop/v1/shop.proto");
      assert.equal(fileNames(imported!)[0], "common/v1/common.proto");
      // Complete and consistent: @bufbuild/protobuf resolves every reference across the files.
      const reg = registryOf(service!);
      assert.deepEqual(reg.getService("shop.v1.Catalog")?.methods.map((m) => m.name), ["GetItem", "CreateItem", "ReplaceItem", "UpdateItem", "DeleteItem", "Search"]);
      assert.equal(reg.getMessage("shop.v1.Item")?.field.price?.message?.typeName, "common.v1.Money");
    });

    test("file_by_filename serves health's and reflection's own descriptors, which are complete", async () => {
      const [health, reflection] = await reflect(def, [
        { host: "", request: { case: "fileByFilename", value: "grpc/health/v1/health.proto" } },
        { host: "", request: { case: "fileContainingSymbol", value: `${def.fullName}.ServerReflectionInfo` } },
      ]);
      const h = registryOf(health!);
      assert.deepEqual(h.getService("grpc.health.v1.Health")?.methods.map((m) => `${m.name}:${m.methodKind}`), ["Check:unary", "Watch:server_streaming"]);
      assert.deepEqual(h.getEnum("grpc.health.v1.HealthCheckResponse.ServingStatus")?.values.map((v) => v.name), ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"]);
      const r = registryOf(reflection!);
      assert.equal(r.getService(def.fullName)?.methods[0]?.methodKind, "bidi_streaming");
      assert.deepEqual(r.getMessage(`${def.fullName.replace(/ServerReflection$/, "")}ServerReflectionRequest`)?.oneofs.map((o) => o.fields.map((f) => f.number)), [[3, 4, 5, 6, 7]]);
    });

    test("unknown files and symbols, extensions and empty requests get error responses, and the stream goes on", async () => {
      const answers = await reflect(def, [
        { host: "h", request: { case: "fileContainingSymbol", value: "no.such.Symbol" } },
        { host: "", request: { case: "fileByFilename", value: "no/such.proto" } },
        { host: "", request: { case: "fileContainingExtension", value: { containingType: "shop.v1.Item", extensionNumber: 100 } } },
        { host: "" },
        { host: "", request: { case: "allExtensionNumbersOfType", value: "shop.v1.Item" } },
        { host: "", request: { case: "fileByFilename", value: "google/protobuf/timestamp.proto" } },
      ]);
      const codes = answers.slice(0, 4).map((a) => (a.response?.case === "errorResponse" ? a.response.value.errorCode : -1));
      assert.deepEqual(codes, [5, 5, 5, 3]);
      assert.equal(answers[0]!.validHost, "h");
      assert.deepEqual(answers[0]!.originalRequest, { host: "h", request: { case: "fileContainingSymbol", value: "no.such.Symbol" } });
      assert.deepEqual(answers[4]!.response, { case: "allExtensionNumbersResponse", value: { baseTypeName: "shop.v1.Item", extensionNumber: [] } });
      assert.deepEqual(fileNames(answers[5]!), ["google/protobuf/timestamp.proto"]);
    });
  });
}
