/**
 * protoc-gen-micro's `openapi=true`: every generated document is valid under a real OpenAPI 3.1 validator
 * (@readme/openapi-parser), and its content is the gateway's routes in the proto3 JSON mapping: http rules with
 * path, body and query parameters, Go Micro's rpc route for methods without rules, comments as descriptions,
 * scalars, enums, well-known types, maps, repeated fields and oneofs as proto3 JSON writes them.
 */
import { validate } from "@readme/openapi-parser";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { resolveSegments } from "../../src/api/resolve.js";
import { rpcRoutePath } from "../../src/http/rpc-route.js";
import { GOLDEN, listFiles, openapiGolden, protoc, tempDir } from "./support.js";

type Json = Record<string, any>;
const goldenDir = join(GOLDEN, openapiGolden.name);
const doc = (file: string): Json => JSON.parse(readFileSync(join(goldenDir, file), "utf8")) as Json;

describe("OpenAPI documents", () => {
  const tmp = tempDir("openapi");
  after(() => tmp.remove());

  it("every golden document is valid OpenAPI 3.1 (@readme/openapi-parser)", async () => {
    const files = listFiles(goldenDir);
    assert.ok(files.length >= 8, files.join(", "));
    for (const f of files) {
      const d = doc(f);
      assert.equal(d.openapi, "3.1.0");
      const result = await validate(d as Parameters<typeof validate>[0]);
      assert.equal(result.valid, true, `${f}: ${JSON.stringify(result)}`);
    }
  });

  it("the validator used is not lenient: a path variable without its parameter is refused", async () => {
    const d = doc("shop/v1/shop.openapi.json");
    delete d.paths["/v1/items/{id}"].get.parameters;
    const result = await validate(d as Parameters<typeof validate>[0]);
    assert.equal(result.valid, false);
  });

  it("http rules: path parameters from templates, body * or a field, query parameters for the rest, response_body", () => {
    const d = doc("shop/v1/shop.openapi.json");
    const get = d.paths["/v1/items/{id}"].get;
    assert.equal(get.operationId, "catalog.Catalog.GetItem");
    assert.deepEqual(
      get.parameters.map((p: Json) => [p.in, p.name, p.required, p.schema.type]),
      [
        ["path", "id", true, "string"],
        ["query", "shelf", false, "string"],
      ],
    );
    assert.equal(get.requestBody, undefined);
    assert.deepEqual(d.paths["/v1/shelves/{shelf}/items/{id}"].get.parameters.map((p: Json) => p.in), ["path", "path"], "an additional binding binds both");
    assert.equal(d.paths["/v1/shelves/{shelf}/items/{id}"].get.operationId, "catalog.Catalog.GetItem.1");
    assert.deepEqual(d.paths["/v1/items"].post.requestBody.content["application/json"].schema, { $ref: "#/components/schemas/shop.v1.Item" });
    const patch = d.paths["/v1/items/{item.id}"].patch;
    assert.deepEqual(patch.requestBody.content["application/json"].schema, { $ref: "#/components/schemas/shop.v1.Item" }, "body: item");
    assert.deepEqual(
      patch.parameters.map((p: Json) => [p.in, p.name]),
      [
        ["path", "item.id"],
        ["query", "paths"],
      ],
    );
    assert.deepEqual(patch.parameters[1].schema, { type: "array", items: { type: "string" } });
    assert.deepEqual(patch.responses["200"].content["application/json"].schema, { type: "string" }, "response_body: name");
    assert.deepEqual(d.paths["/v1/items/{id}"].delete.responses.default.content["application/json"].schema, { $ref: "#/components/schemas/micro.Error" });
    assert.equal(d.paths["/v1/items:search"], undefined, "a custom verb OpenAPI has no method for is left out");
  });

  it("methods without rules get the gateway's rpc route, POST /<service>/<method>, and it resolves back", () => {
    const d = doc("shop/v1/shop.openapi.json");
    assert.deepEqual(Object.keys(d.paths).filter((p) => p.startsWith("/clock/")), ["/clock/echo", "/clock/now", "/clock/walk"]);
    for (const [path, item] of Object.entries(d.paths as Json)) {
      for (const op of Object.values(item as Json) as Json[]) {
        if (path.startsWith("/v1/")) continue;
        assert.deepEqual(resolveSegments(path.slice(1).split("/")), { service: op["x-micro-service"], endpoint: op["x-micro-endpoint"] }, path);
      }
    }
    const greeter = doc("greeter/v1/greeter.openapi.json");
    assert.deepEqual(Object.keys(greeter.paths), ["/greeter/stream", "/v1/hello"], "client and bidi streams have no HTTP route");
    const stream = greeter.paths["/greeter/stream"].post.responses["200"].content;
    assert.deepEqual(Object.keys(stream), ["application/x-ndjson", "text/event-stream"]);
  });

  it("proto comments become descriptions (services, methods, messages)", () => {
    const d = doc("greeter/v1/greeter.openapi.json");
    assert.deepEqual(d.tags, [{ name: "greeter.v1.Greeter", description: "Greeter says hello.\n\nIt has one method of each of the four kinds." }]);
    assert.equal(d.paths["/v1/hello"].post.summary, "Hello answers one request with one response.");
    assert.equal(d.components.schemas["greeter.v1.HelloRequest"].description, "HelloRequest names who to greet.");
    assert.deepEqual(d.components.schemas["micro.Error"].required, ["id", "code", "detail", "status"]);
  });

  it("schemas follow the proto3 JSON mapping", () => {
    const s = doc("alltypes/v1/alltypes.openapi.json").components.schemas;
    const p = s["alltypes.v1.Scalars"].properties;
    assert.deepEqual(p.int64Value, { type: "string", format: "int64", pattern: "^-?[0-9]+$" });
    assert.deepEqual(p.uint64Value, { type: "string", format: "uint64", pattern: "^[0-9]+$" });
    assert.equal(p.int32Value.type, "integer");
    assert.deepEqual(p.bytesValue, { type: "string", format: "byte", contentEncoding: "base64" });
    assert.deepEqual(p.color, { $ref: "#/components/schemas/alltypes.v1.Color" });
    assert.equal(s["alltypes.v1.Color"].type, "string");
    assert.ok(s["alltypes.v1.Color"].enum.every((v: unknown) => typeof v === "string" && /^[A-Z_0-9]+$/.test(v as string)), "enums by name");
    assert.deepEqual(p.int32List, { type: "array", items: { type: "integer", format: "int32" } });
    assert.equal(p.counts.type, "object");
    assert.deepEqual(p.counts.additionalProperties, { type: "string", format: "int64", pattern: "^-?[0-9]+$" });
    assert.deepEqual(p.names.propertyNames, { pattern: "^-?[0-9]+$" }, "int32 map keys");
    assert.deepEqual(s["alltypes.v1.Scalars"].not, { anyOf: [{ required: ["choiceText", "choiceNumber"] }] }, "at most one field of a oneof");
    assert.ok(!("optionalInt32" in (s["alltypes.v1.Scalars"].not?.anyOf?.[0] ?? {})), "proto3 optional is not a oneof");
    const w = s["alltypes.v1.WellKnown"].properties;
    assert.equal(w.timestamp.format, "date-time");
    assert.equal(w.duration.type, "string");
    assert.deepEqual(w.int64Wrapper.type, ["string", "null"]);
    assert.deepEqual(w.nullValue.type, "null");
    assert.equal(w.struct.type, "object");
    assert.equal(s["google.protobuf.NullValue"], undefined);
  });

  it("openapi_service names the service of the rpc routes; without openapi=true no document is written", async () => {
    const named = join(tmp.dir, "named");
    mkdirSync(named);
    const r = await protoc(named, "openapi=true,openapi_service=com.example.greeter", ["greeter/v1/greeter.proto"]);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(readFileSync(join(named, "greeter/v1/greeter.openapi.json"), "utf8")) as Json;
    assert.deepEqual(Object.keys(d.paths), ["/com/example/greeter/greeter/stream", "/v1/hello"]);
    const plain = join(tmp.dir, "plain");
    mkdirSync(plain);
    assert.equal((await protoc(plain, "", ["greeter/v1/greeter.proto"])).code, 0);
    assert.deepEqual(listFiles(plain, ".json"), []);
    const bad = join(tmp.dir, "bad");
    mkdirSync(bad);
    const failed = await protoc(bad, "openapi=yes", ["greeter/v1/greeter.proto"]);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /invalid value "yes" for option "openapi": accepted values are true, false/);
  });
});

describe("rpcRoutePath", () => {
  it("gives a path the gateway resolves back to the same service and endpoint", () => {
    const cases: [string, string, string, string][] = [
      ["greeter", "Greeter.Hello", "", "/greeter/hello"],
      ["greeter", "Say.Hello", "", "/greeter/say/hello"],
      ["greeter", "GreeterService.SayHello", "", "/greeter/greeterService/sayHello"],
      ["com.example.greeter", "Greeter.Hello", "", "/com/example/greeter/greeter/hello"],
      ["com.example.greeter", "Greeter.Hello", "com.example", "/greeter/hello"],
      ["v1.greeter", "Greeter.Hello", "", "/v1/greeter/greeter/hello"],
    ];
    for (const [service, endpoint, namespace, path] of cases) {
      assert.equal(rpcRoutePath(service, endpoint, namespace), path);
      assert.deepEqual(resolveSegments(path.slice(1).split("/"), namespace), { service, endpoint }, path);
    }
  });

  it("gives none where no path can name the endpoint", () => {
    assert.equal(rpcRoutePath("other.greeter", "Greeter.Hello", "com.example"), undefined, "outside the namespace");
    assert.equal(rpcRoutePath("greeter", "Greeter.Say_Hello"), undefined, "camel-casing would drop the _");
    assert.equal(rpcRoutePath("v1", "Greeter.Hello"), undefined, "a version segment alone");
  });
});
