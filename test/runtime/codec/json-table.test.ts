/**
 * The proto3 JSON table: every scalar and every well-known type, both directions, for both message libraries,
 * with @bufbuild/protobuf's `fromJson`/`toJson` as the reference; refusals with their field paths; and the same
 * refusals through a real server answering a JSON call (what `micro call` and the gateway send).
 *
 * The fixture fixtures/proto/alltypes/v1/alltypes.proto is generated for real (protoc + protoc-gen-micro + ts-proto
 * with `forceLong=string`, and + protoc-gen-es), compiled by tsc, and loaded with the runtime of dist/ (the copy
 * the generated code imports as `micro-ts`).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { createRegistry, fromBinary, fromJson, toBinary, toJson, type DescMessage, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { file_google_protobuf_duration, file_google_protobuf_struct } from "@bufbuild/protobuf/wkt";
import type { MessageCodec } from "../../../src/index.js";
import { ROOT, makeProject, protoc, tempDir, tsc, variants } from "../../generator/support.js";

type Defs = Record<string, { methods: Record<string, { input: MessageCodec; output: MessageCodec }> }>;

describe("proto3 JSON", () => {
const tmp = tempDir("json-table");
let tsp: Defs;
let tsDefault: Defs;
let es: Defs;
let schemas: Record<string, DescMessage>;
let registry: Registry;
let runtime: typeof import("../../../src/index.js");
let memory: { memoryRegistry: () => unknown; memoryBroker: () => unknown };

before(async () => {
  makeProject(tmp.dir, "js-dir");
  mkdirSync(join(tmp.dir, "tsp"));
  mkdirSync(join(tmp.dir, "es"));
  mkdirSync(join(tmp.dir, "tsd"));
  const tsVariant = { ...variants.find((v) => v.name === "ts-proto")!, libraryOpt: "outputServices=none,importSuffix=.js,forceLong=string" };
  const esVariant = variants.find((v) => v.name === "protobuf-es")!;
  const a = await protoc(join(tmp.dir, "tsp"), tsVariant.microOpt, ["alltypes/v1/alltypes.proto"], { variant: tsVariant, out: join(tmp.dir, "tsp") });
  assert.equal(a.code, 0, a.stderr);
  const b = await protoc(join(tmp.dir, "es"), esVariant.microOpt, ["alltypes/v1/alltypes.proto"], { variant: esVariant, out: join(tmp.dir, "es") });
  assert.equal(b.code, 0, b.stderr);
  const tsDefaultVariant = variants.find((v) => v.name === "ts-proto")!;
  const c = await protoc(join(tmp.dir, "tsd"), tsDefaultVariant.microOpt, ["alltypes/v1/alltypes.proto"], { variant: tsDefaultVariant, out: join(tmp.dir, "tsd") });
  assert.equal(c.code, 0, c.stderr);
  const built = await tsc(tmp.dir);
  assert.equal(built.code, 0, built.stdout + built.stderr);
  const load = (p: string) => import(pathToFileURL(join(tmp.dir, "js", p)).href);
  tsp = await load("tsp/alltypes/v1/alltypes.micro.js");
  es = await load("es/alltypes/v1/alltypes.micro.js");
  tsDefault = await load("tsd/alltypes/v1/alltypes.micro.js");
  const pb = await load("es/alltypes/v1/alltypes_pb.js");
  schemas = {
    scalars: pb.ScalarsSchema,
    wellKnown: pb.WellKnownSchema,
    struct: file_google_protobuf_struct.messages[0]!,
    duration: file_google_protobuf_duration.messages[0]!,
  };
  registry = createRegistry(pb.file_alltypes_v1_alltypes, file_google_protobuf_duration, file_google_protobuf_struct);
  runtime = await import(pathToFileURL(join(ROOT, "dist/index.js")).href);
  memory = {
    ...(await import(pathToFileURL(join(ROOT, "dist/runtime/registry/memory/index.js")).href)),
    ...(await import(pathToFileURL(join(ROOT, "dist/runtime/broker/memory/index.js")).href)),
  };
});
after(() => tmp.remove());

const methodOf = { scalars: "echoScalars", wellKnown: "echoWellKnown", struct: "echoStruct", duration: "echoDuration" } as const;
type Kind = keyof typeof methodOf;
const libraries = [
  ["ts-proto", () => tsp],
  ["protobuf-es", () => es],
] as const;
const codec = (defs: Defs, kind: Kind): MessageCodec => defs.AllTypes!.methods[methodOf[kind]]!.input;

/** [message, JSON in] — each must be accepted, and give what the reference gives. */
const table: readonly (readonly [Kind, JsonValue])[] = [
  ["scalars", { doubleValue: 1.5 }],
  ["scalars", { doubleValue: "1.5" }],
  ["scalars", { doubleValue: "NaN" }],
  ["scalars", { doubleValue: "Infinity" }],
  ["scalars", { doubleValue: "-Infinity" }],
  ["scalars", { doubleValue: 1e300 }],
  ["scalars", { floatValue: 0.5 }],
  ["scalars", { floatValue: "-Infinity" }],
  ["scalars", { int32Value: -2147483648 }],
  ["scalars", { int32Value: "2147483647" }],
  ["scalars", { int32Value: 1e3 }],
  ["scalars", { int64Value: "12345678901234567" }],
  ["scalars", { int64Value: "-9223372036854775808" }],
  ["scalars", { int64Value: 12345 }],
  ["scalars", { uint32Value: 4294967295 }],
  ["scalars", { uint64Value: "18446744073709551615" }],
  ["scalars", { sint32Value: -7 }],
  ["scalars", { sint64Value: "-12345678901234567" }],
  ["scalars", { fixed32Value: 7 }],
  ["scalars", { fixed64Value: "12345678901234567" }],
  ["scalars", { sfixed32Value: -7 }],
  ["scalars", { sfixed64Value: "-12345678901234567" }],
  ["scalars", { boolValue: true }],
  ["scalars", { stringValue: "héllo ✓" }],
  ["scalars", { bytesValue: "aGVsbG8/Pz8+Pj4=" }],
  ["scalars", { bytesValue: "aGVsbG8_Pz8-Pj4" }],
  ["scalars", { color: "COLOR_RED" }],
  ["scalars", { color: 2 }],
  ["scalars", { optionalInt32: 0 }],
  ["scalars", { int32List: [1, "2", 3] }],
  ["scalars", { colors: ["COLOR_GREEN", 1] }],
  ["scalars", { counts: { a: "12345678901234567", b: 2 } }],
  ["scalars", { names: { "1": "one", "-2": "minus two" } }],
  ["scalars", { book: { name: "n", pageSize: 3 } }],
  ["scalars", { book: { name: "n", page_size: 3 } }],
  ["scalars", { double_value: 2, int64_value: "3", string_value: "proto names" }],
  ["scalars", { books: [{ name: "a" }, { pageSize: 1 }], shelf: { x: { name: "b" } } }],
  ["scalars", { choiceText: "t" }],
  ["scalars", { choiceNumber: 4 }],
  ["scalars", { int32Value: null, book: null }],
  ["wellKnown", { timestamp: "2024-01-02T03:04:05.123Z" }],
  ["wellKnown", { timestamp: "2024-01-02T03:04:05+01:00" }],
  ["wellKnown", { duration: "1.5s" }],
  ["wellKnown", { duration: "-0.000000001s" }],
  ["wellKnown", { any: { "@type": "type.googleapis.com/alltypes.v1.Book", name: "packed", pageSize: 2 } }],
  ["wellKnown", { any: { "@type": "type.googleapis.com/google.protobuf.Duration", value: "2s" } }],
  ["wellKnown", { empty: {} }],
  ["wellKnown", { fieldMask: "name,pageSize" }],
  ["wellKnown", { struct: { a: 1, b: "x", c: [true, null, { d: 2 }] } }],
  ["wellKnown", { value: "text" }],
  ["wellKnown", { value: { nested: [1, 2] } }],
  ["wellKnown", { listValue: [1, "a", false, null] }],
  ["wellKnown", { nullValue: null }],
  ["wellKnown", { nullValue: "NULL_VALUE" }],
  ["wellKnown", { doubleWrapper: 1.25 }],
  ["wellKnown", { doubleWrapper: "NaN" }],
  ["wellKnown", { floatWrapper: 2.5 }],
  ["wellKnown", { int64Wrapper: "12345678901234567" }],
  ["wellKnown", { uint64Wrapper: "18446744073709551615" }],
  ["wellKnown", { int32Wrapper: 0 }],
  ["wellKnown", { uint32Wrapper: 42 }],
  ["wellKnown", { boolWrapper: false }],
  ["wellKnown", { stringWrapper: "" }],
  ["wellKnown", { bytesWrapper: "AAEC" }],
  ["wellKnown", { timestamps: ["1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"], durations: { a: "3s", b: "0.5s" } }],
  ["struct", { a: 1, b: { c: ["x", null] } }],
  ["duration", "1.5s" as unknown as JsonValue],
];

describe("proto3 JSON table: both libraries agree with @bufbuild/protobuf", () => {
  for (const [kind, json] of table) {
    for (const [lib, defs] of libraries) {
      it(`${lib} ${kind} ${JSON.stringify(json)}`, () => {
        const schema = schemas[kind]!;
        const c = codec(defs(), kind);
        const reference = fromJson(schema, json, { registry });
        const expected = toJson(schema, reference, { registry });
        // JSON in → message → canonical JSON out.
        if (kind === "duration") {
          // A Duration request is not a JSON object: requests must be objects (see the refusals).
          assert.throws(() => c.fromJSON(json), (e: any) => e.code === 400 && e.detail === `request must be a JSON object, got a string ${JSON.stringify(json)}`);
        } else {
          assert.deepEqual(c.toJSON(c.fromJSON(json)), expected);
          // JSON in → binary equals the reference's binary meaning.
          assert.deepEqual(toJson(schema, fromBinary(schema, c.encode(c.fromJSON(json))), { registry }), expected);
        }
        // Binary in (from the reference) → canonical JSON out.
        assert.deepEqual(c.toJSON(c.decode(toBinary(schema, reference))), expected);
      });
    }
  }
});

/** [message, JSON in, exact detail] — each must be a 400 micro.codec with this detail, for both libraries. */
const refusals: readonly (readonly [Kind, unknown, string])[] = [
  ["scalars", { book: { pageSize: "abc" } }, 'book.pageSize: expected int32, got "abc"'],
  ["scalars", { int32Value: 1.5 }, "int32Value: expected int32, got 1.5"],
  ["scalars", { int32Value: 2147483648 }, "int32Value: expected int32, got 2147483648"],
  ["scalars", { uint32Value: -1 }, "uint32Value: expected uint32, got -1"],
  ["scalars", { color: "COLOR_BLUE" }, 'color: expected enum alltypes.v1.Color, got "COLOR_BLUE"'],
  ["scalars", { stringValue: { x: 1 } }, 'stringValue: expected string, got {"x":1}'],
  ["scalars", { strngValue: "typo" }, 'strngValue: unknown field (alltypes.v1.Scalars has no field "strngValue")'],
  ["scalars", { book: { nmae: "typo" } }, 'book.nmae: unknown field (alltypes.v1.Book has no field "nmae")'],
  ["scalars", { books: [{ name: "ok" }, { pageSize: true }] }, "books[1].pageSize: expected int32, got true"],
  ["scalars", { shelf: { k: { pageSize: "x" } } }, 'shelf["k"].pageSize: expected int32, got "x"'],
  ["scalars", { int32List: [1, "two"] }, 'int32List[1]: expected int32, got "two"'],
  ["scalars", { names: { one: "x" } }, 'names["one"]: expected a int32 key, got "one"'],
  ["scalars", { int64Value: "1.5" }, 'int64Value: expected int64, got "1.5"'],
  ["scalars", { uint64Value: "18446744073709551616" }, 'uint64Value: expected uint64, got "18446744073709551616"'],
  ["scalars", { boolValue: "true" }, 'boolValue: expected bool, got "true"'],
  ["scalars", { bytesValue: "not base64!" }, 'bytesValue: expected bytes, got "not base64!"'],
  ["scalars", { doubleValue: "nan" }, 'doubleValue: expected double, got "nan"'],
  ["wellKnown", { duration: "1.5" }, 'duration: expected google.protobuf.Duration, got "1.5"'],
  ["wellKnown", { timestamp: "yesterday" }, 'timestamp: expected google.protobuf.Timestamp, got "yesterday"'],
  ["wellKnown", { int32Wrapper: "x" }, 'int32Wrapper: expected google.protobuf.Int32Value, got "x"'],
  ["wellKnown", { any: { "@type": "type.googleapis.com/no.Such" } }, 'any: expected google.protobuf.Any, got {"@type":"type.googleapis.com/no.Such"}'],
  ["scalars", [1, 2], "request must be a JSON object, got an array [1,2]"],
  ["scalars", "text", 'request must be a JSON object, got a string "text"'],
  ["scalars", 5, "request must be a JSON object, got a number 5"],
  ["scalars", null, "request must be a JSON object, got null"],
];

describe("proto3 JSON refusals name the field path (both libraries)", () => {
  for (const [kind, json, detail] of refusals) {
    for (const [lib, defs] of libraries) {
      it(`${lib} ${JSON.stringify(json)}`, () => {
        assert.throws(
          () => codec(defs(), kind).fromJSON(json),
          (e: any) => {
            assert.deepEqual({ id: e.id, code: e.code, detail: e.detail }, { id: "micro.codec", code: 400, detail });
            return true;
          },
        );
      });
    }
  }

  for (const [lib, defs] of libraries) {
    it(`${lib}: unknown fields are skipped only when asked (ignoreUnknownFields / allowUnknownJsonFields)`, () => {
      const c = codec(defs(), "scalars");
      assert.deepEqual(c.toJSON(c.fromJSON({ int32Value: 1, extra: { a: 1 } }, { ignoreUnknownFields: true })), { int32Value: 1 });
      const lenient = runtime.allowUnknownJsonFields(c);
      assert.deepEqual(lenient.toJSON(lenient.fromJSON({ int32Value: 1, extra: 2 })), { int32Value: 1 });
      // Still strict about the fields it has.
      assert.throws(() => lenient.fromJSON({ int32Value: "x", extra: 2 }), (e: any) => e.detail === 'int32Value: expected int32, got "x"');
    });
  }
});

describe("ts-proto with its default forceLong=number: an int64 it cannot hold is refused, not rounded", () => {
  it("refuses past 2^53 and keeps what fits", () => {
    const c = codec(tsDefault, "scalars");
    assert.throws(
      () => c.fromJSON({ book: { name: "b" }, int64Value: "12345678901234567" }),
      (e: any) => {
        assert.deepEqual(
          { id: e.id, code: e.code, detail: e.detail },
          { id: "micro.codec", code: 400, detail: 'int64Value: "12345678901234567" cannot be held by the generated message type (Value is larger than Number.MAX_SAFE_INTEGER)' },
        );
        return true;
      },
    );
    assert.throws(() => c.fromJSON({ counts: { a: "1", b: "-12345678901234567" } }), (e: any) => e.code === 400 && /^counts\["b"\]: "-12345678901234567" cannot be held/.test(e.detail));
    assert.deepEqual(c.toJSON(c.fromJSON({ int64Value: "9007199254740991" })), { int64Value: "9007199254740991" });
  });
});

describe("through a real server: a JSON call with a wrong type is a 400 naming the path", () => {
  for (const [lib, defs] of libraries) {
    it(lib, async () => {
      const rt = runtime as any;
      const service = rt.newService({ name: `alltypes-${lib}`, registry: memory.memoryRegistry(), broker: memory.memoryBroker(), handleSignals: false, argv: [], env: {} });
      const AllTypes = defs().AllTypes as any;
      const echo = (m: unknown) => m;
      service.server().handle(AllTypes, { echoScalars: echo, echoWellKnown: echo, echoStruct: echo, echoDuration: echo });
      await service.start();
      try {
        const client = service.client();
        const raw = (name: string) => ({ service: `alltypes-${lib}`, endpoint: `AllTypes.${name}`, method: { name, kind: "unary", input: rt.rawJsonCodec, output: rt.rawJsonCodec } });
        const json = { contentType: "application/json" };
        await assert.rejects(client.call(raw("EchoScalars"), { book: { name: "x", pageSize: "abc" } }, json), (e: any) => {
          assert.deepEqual(e.toJSON(), { id: "micro.codec", code: 400, detail: 'book.pageSize: expected int32, got "abc"', status: "Bad Request" });
          return true;
        });
        await assert.rejects(client.call(raw("EchoScalars"), { pagSize: 1 }, json), (e: any) => e.code === 400 && /^pagSize: unknown field/.test(e.detail));
        await assert.rejects(client.call(raw("EchoScalars"), [1, 2], json), (e: any) => e.code === 400 && e.detail === "request must be a JSON object, got an array [1,2]");
        // Canonical JSON back: a 17-digit int64 intact, a Duration as "1.5s", a wrapper's bare value, a Struct body.
        assert.deepEqual(await client.call(raw("EchoScalars"), { int64Value: "12345678901234567", int32Value: "5" }, json), { int32Value: 5, int64Value: "12345678901234567" });
        assert.deepEqual(await client.call(raw("EchoWellKnown"), { duration: "1.5s", int32Wrapper: 7, struct: { a: [1, "b"] } }, json), {
          duration: "1.500s",
          struct: { a: [1, "b"] },
          int32Wrapper: 7,
        });
        assert.deepEqual(await client.call(raw("EchoStruct"), { k: { n: null, l: [true] } }, json), { k: { n: null, l: [true] } });
      } finally {
        await service.stop();
      }
    });
  }
});
});
