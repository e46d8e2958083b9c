/**
 * Unit tests of the generator's rules that the fixtures cannot reach (protoc-gen-es itself cannot compile two
 * rpcs that differ only in case, a malformed HTTP rule never reaches the golden files) and of the response the
 * plugin gives protoc.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { create, fromBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { CodeGeneratorRequestSchema, CodeGeneratorResponse_Feature, Edition, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { HTTP_EXTENSION, httpBindings } from "../../src/generator/http.js";
import { methodKeys, serviceName } from "../../src/generator/names.js";
import { fieldRecords, MAX_DEPTH } from "../../src/generator/fields.js";
import { PLUGIN_VERSION, runPlugin } from "../../src/generator/plugin.js";
import { FIXTURES, ROOT, run, tempDir } from "./support.js";

describe("names", () => {
  const service = (...names: string[]): DescService => ({ methods: names.map((name) => ({ name })) }) as unknown as DescService;

  it("PascalCases services and lowerCamelCases methods", () => {
    assert.equal(serviceName("greeter_handler"), "GreeterHandler");
    assert.equal(serviceName("Greeter"), "Greeter");
    assert.deepEqual(methodKeys(service("SayHello", "say_hello_again", "GetAPIValue")), ["sayHello", "sayHelloAgain", "getAPIValue"]);
  });

  it("renames constructor and repeated keys with a trailing _", () => {
    assert.deepEqual(methodKeys(service("Constructor", "Delete", "delete", "DELETE_")), ["constructor_", "delete", "delete_", "dELETE"]);
    assert.deepEqual(methodKeys(service("Foo", "foo", "FOO")), ["foo", "foo_", "fOO"]);
    assert.deepEqual(methodKeys(service("A", "a", "a_")), ["a", "a_", "a__"]);
  });
});

describe("google.api.http", () => {
  function rule(write: (w: BinaryWriter) => void): Uint8Array {
    const w = new BinaryWriter();
    write(w);
    return w.finish();
  }
  function method(...occurrences: Uint8Array[]): DescMethod {
    const $unknown = occurrences.map((bytes) => ({
      no: HTTP_EXTENSION,
      wireType: WireType.LengthDelimited,
      data: new BinaryWriter().bytes(bytes).finish(),
    }));
    return { name: "Get", parent: { typeName: "x.S" }, proto: { options: { $unknown } } } as unknown as DescMethod;
  }

  it("reads every verb, custom, body, response_body and flattens additional_bindings", () => {
    const nested = rule((w) => w.tag(3, WireType.LengthDelimited).string("/nested/ignored"));
    const extra = rule((w) => {
      w.tag(6, WireType.LengthDelimited).string("/v1/a");
      w.tag(7, WireType.LengthDelimited).string("a");
      w.tag(11, WireType.LengthDelimited).bytes(nested);
    });
    const custom = rule((w) => w.tag(1, WireType.LengthDelimited).string("HEAD").tag(2, WireType.LengthDelimited).string("/v1/h"));
    const main = rule((w) => {
      w.tag(1, WireType.LengthDelimited).string("x.S.Get");
      w.tag(2, WireType.LengthDelimited).string("/v1/x/{id}");
      w.tag(12, WireType.LengthDelimited).string("item");
      w.tag(11, WireType.LengthDelimited).bytes(extra);
      w.tag(11, WireType.LengthDelimited).bytes(rule((x) => x.tag(8, WireType.LengthDelimited).bytes(custom)));
      w.tag(11, WireType.LengthDelimited).bytes(rule((x) => x.tag(5, WireType.LengthDelimited).string("/v1/d")));
      w.tag(11, WireType.LengthDelimited).bytes(rule((x) => x.tag(3, WireType.LengthDelimited).string("/v1/p").tag(7, WireType.LengthDelimited).string("*")));
      w.tag(11, WireType.LengthDelimited).bytes(rule((x) => x.tag(4, WireType.LengthDelimited).string("/v1/o")));
      w.tag(99, WireType.Varint).uint32(1); // an unknown field is skipped
    });
    assert.deepEqual(httpBindings(method(main)), [
      { method: "GET", path: "/v1/x/{id}", responseBody: "item" },
      { method: "PATCH", path: "/v1/a", body: "a" },
      { method: "HEAD", path: "/v1/h" },
      { method: "DELETE", path: "/v1/d" },
      { method: "PUT", path: "/v1/p", body: "*" },
      { method: "POST", path: "/v1/o" },
    ]);
  });

  it("merges repeated occurrences of the option, as protobuf does", () => {
    const first = rule((w) => w.tag(2, WireType.LengthDelimited).string("/v1/first"));
    const second = rule((w) => w.tag(7, WireType.LengthDelimited).string("*"));
    assert.deepEqual(httpBindings(method(first, second)), [{ method: "GET", path: "/v1/first", body: "*" }]);
  });

  it("is empty without the option and rejects a rule without a pattern", () => {
    assert.deepEqual(httpBindings(method()), []);
    assert.throws(() => httpBindings(method(rule((w) => w.tag(7, WireType.LengthDelimited).string("*")))), /rpc x\.S\.Get: google\.api\.http rule without a pattern/);
  });
});

describe("plugin response and field descriptions", () => {
  const tmp = tempDir("units");
  after(() => tmp.remove());

  async function request(files: string[], parameter = ""): Promise<ReturnType<typeof create<typeof CodeGeneratorRequestSchema>>> {
    const set = join(tmp.dir, "set.bin");
    const result = await run(join(FIXTURES, "../../node_modules/.bin/protoc"), ["-I", FIXTURES, "--include_imports", "--include_source_info", `--descriptor_set_out=${set}`, ...files]);
    assert.equal(result.code, 0, result.stderr);
    const fds = fromBinary(FileDescriptorSetSchema, readFileSync(set));
    return create(CodeGeneratorRequestSchema, { fileToGenerate: files, parameter, protoFile: fds.file });
  }

  it("declares proto3 optional and editions support, proto2 to 2024", async () => {
    const response = await runPlugin(await request(["editions/edition2024.proto", "editions/editions.proto", "legacy/legacy.proto"]));
    assert.equal(Number(response.supportedFeatures), CodeGeneratorResponse_Feature.PROTO3_OPTIONAL | CodeGeneratorResponse_Feature.SUPPORTS_EDITIONS);
    assert.equal(response.minimumEdition, Edition.EDITION_PROTO2);
    assert.equal(response.maximumEdition, Edition.EDITION_2024);
    assert.deepEqual(response.file.map((f) => f.name), ["editions/edition2024.micro.ts", "editions/editions.micro.ts", "legacy/legacy.micro.ts"]);
  });

  it("reports the package's version", () => {
    assert.equal(PLUGIN_VERSION, (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version);
  });

  it("writes // @ts-nocheck with ts_nocheck=true", async () => {
    const response = await runPlugin(await request(["greeter/v1/greeter.proto"], "ts_nocheck=true"));
    assert.match(response.file[0]!.content, /^\/\/ Code generated by protoc-gen-micro\. DO NOT EDIT\.\n\/\/ source: greeter\/v1\/greeter\.proto\n\/\* eslint-disable \*\/\n\/\/ @ts-nocheck\n/);
  });

  it("bounds the depth of field descriptions and stops at recursion", async () => {
    const { createFileRegistry } = await import("@bufbuild/protobuf");
    const req = await request(["common/v1/common.proto"]);
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: req.protoFile }));
    const tree = registry.getMessage("common.v1.Tree")!;
    assert.deepEqual(fieldRecords(tree), [
      { name: "label", type: "string" },
      { name: "children", type: "common.v1.Tree[]" },
      { name: "parent", type: "common.v1.Tree" },
    ]);
    const page = registry.getMessage("common.v1.Page")!;
    const records = fieldRecords(page)!;
    const next = records.find((r) => r.name === "next")!;
    assert.equal(next.type, "common.v1.Page.Cursor");
    const position = next.values!.find((r) => r.name === "position")!;
    assert.deepEqual(position.values, [{ name: "offset", type: "int64" }]);
    assert.equal(MAX_DEPTH, 3);
    assert.deepEqual(records.find((r) => r.name === "totals"), {
      name: "totals",
      type: "map<string, common.v1.Money>",
      values: [
        { name: "currencyCode", type: "string" },
        { name: "units", type: "int64" },
        { name: "nanos", type: "int32" },
      ],
    });
  });
});
