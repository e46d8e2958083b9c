import { test } from "node:test";
import assert from "node:assert/strict";
import { MicroError, codecFor, healthMethod, jsonCodec, protobufCodec, rawJsonCodec } from "../../../src/index.js";
import { HelloRequestCodec } from "../../fixtures/runtime/greeter.js";

test("codecFor picks by content type, ignoring parameters and case, with protobuf aliases", () => {
  assert.equal(codecFor("application/json; charset=utf-8"), jsonCodec);
  assert.equal(codecFor("Application/Protobuf"), protobufCodec);
  assert.equal(codecFor("application/x-protobuf"), protobufCodec);
  assert.throws(() => codecFor("text/xml"), (e: unknown) => e instanceof MicroError && e.code === 400 && /unsupported content type "text\/xml"; use one of: application\/protobuf/.test(e.detail));
});

test("the JSON codec goes through the message codec's JSON form; bad JSON is a 400 naming the type", () => {
  const bytes = jsonCodec.marshal(HelloRequestCodec, { name: "x" });
  assert.equal(new TextDecoder().decode(bytes), '{"name":"x"}');
  assert.deepEqual(jsonCodec.unmarshal(HelloRequestCodec, bytes), { name: "x" });
  assert.deepEqual(jsonCodec.unmarshal(HelloRequestCodec, new Uint8Array(0)), { name: "" });
  assert.throws(() => jsonCodec.unmarshal(HelloRequestCodec, new TextEncoder().encode("{")), (e: unknown) => e instanceof MicroError && e.code === 400 && /malformed JSON for greeter.v1.HelloRequest/.test(e.detail));
});

test("rawJsonCodec passes JSON through and refuses protobuf with a clear message", () => {
  assert.deepEqual(jsonCodec.unmarshal(rawJsonCodec, jsonCodec.marshal(rawJsonCodec, { any: [1, "two"] })), { any: [1, "two"] });
  assert.throws(() => protobufCodec.marshal(rawJsonCodec, {}), /call with contentType application\/json/);
});

test("the Debug.Health codec round-trips in protobuf and JSON", () => {
  const out = healthMethod.output;
  assert.deepEqual(out.decode(out.encode({ status: "ok" })), { status: "ok" });
  assert.deepEqual(out.toJSON({ status: "ok" }), { status: "ok" });
  assert.deepEqual(healthMethod.input.decode(new Uint8Array([0x0a, 0x01, 0x41])), {});
});
