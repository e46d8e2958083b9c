/**
 * The hand-written ApiRequest/ApiResponse codecs against protobuf itself: proto/micro/api/v1/api.proto is
 * compiled by protoc into a descriptor set and read by @bufbuild/protobuf, and bytes go both ways.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, createFileRegistry, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { apiRequestCodec, apiResponseCodec, type ApiRequest } from "../../src/api/index.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
let RequestDesc: DescMessage;
let ResponseDesc: DescMessage;

before(() => {
  const dir = mkdtempSync(join(tmpdir(), "micro-api-proto-"));
  try {
    const out = join(dir, "api.pb");
    execFileSync(join(ROOT, "node_modules/.bin/protoc"), ["-I", join(ROOT, "proto"), `--descriptor_set_out=${out}`, "micro/api/v1/api.proto"]);
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
    RequestDesc = registry.getMessage("micro.api.v1.Request")!;
    ResponseDesc = registry.getMessage("micro.api.v1.Response")!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const sample: ApiRequest = {
  method: "POST",
  path: "/greeter/hello",
  header: { "content-type": { key: "content-type", values: ["application/json"] }, "x-a": { key: "x-a", values: ["1", "ü2"] } },
  get: { q: { key: "q", values: ["a", "b"] } },
  post: {},
  body: '{"name":"John"}',
  url: "/greeter/hello?q=a&q=b",
};

test("ApiRequest bytes decode with protobuf, and protobuf's bytes decode with the codec", () => {
  const theirs = fromBinary(RequestDesc, apiRequestCodec.encode(sample)) as unknown as ApiRequest;
  assert.equal(theirs.method, "POST");
  assert.equal(theirs.url, sample.url);
  assert.deepEqual(theirs.header["x-a"]!.values, ["1", "ü2"]);
  assert.deepEqual(theirs.get.q!.values, ["a", "b"]);
  const bytes = toBinary(RequestDesc, create(RequestDesc, sample as never));
  assert.deepEqual(apiRequestCodec.decode(bytes), sample);
});

test("ApiResponse both ways, and its proto3 JSON form", () => {
  const rsp = { statusCode: 201, header: { "x-b": { key: "X-B", values: ["v"] } }, body: "created" };
  const theirs = fromBinary(ResponseDesc, apiResponseCodec.encode(rsp)) as unknown as typeof rsp;
  assert.equal(theirs.statusCode, 201);
  assert.deepEqual(theirs.header["x-b"]!.values, ["v"]);
  assert.deepEqual(apiResponseCodec.decode(toBinary(ResponseDesc, create(ResponseDesc, rsp as never))), rsp);
  assert.deepEqual(apiResponseCodec.fromJSON({ status_code: 404, body: "x" }), { statusCode: 404, header: {}, body: "x" });
  assert.deepEqual(apiResponseCodec.fromJSON(apiResponseCodec.toJSON(rsp)), rsp);
  assert.deepEqual(apiRequestCodec.fromJSON(JSON.parse(JSON.stringify(apiRequestCodec.toJSON(sample)))), sample);
});
