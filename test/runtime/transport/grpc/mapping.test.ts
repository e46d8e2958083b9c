/**
 * The grpc transport's mappings: MicroError code ↔ gRPC status (the documented table, both directions),
 * grpc-message percent-encoding, grpc-timeout, gRPC paths, and metadata ↔ headers keeping micro's key case.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MicroError } from "../../../../src/index.js";
import { GrpcStatus, decodeGrpcMessage, encodeGrpcMessage, errorFromStatus, fromGrpcStatus, toGrpcStatus } from "../../../../src/runtime/transport/grpc/status.js";
import { formatGrpcTimeout, parseGrpcTimeout } from "../../../../src/runtime/transport/grpc/timeout.js";
import { grpcContentType, grpcPath, headersToMetadata, metadataToHeaders, microContentType, parsePath } from "../../../../src/runtime/transport/grpc/headers.js";

test("MicroError codes map to gRPC statuses and back (docs/grpc.md)", () => {
  const table: Array<[number, keyof typeof GrpcStatus]> = [
    [400, "INVALID_ARGUMENT"], [401, "UNAUTHENTICATED"], [403, "PERMISSION_DENIED"], [404, "NOT_FOUND"], [408, "DEADLINE_EXCEEDED"],
    [409, "ALREADY_EXISTS"], [412, "FAILED_PRECONDITION"], [413, "RESOURCE_EXHAUSTED"], [429, "RESOURCE_EXHAUSTED"], [499, "CANCELLED"],
    [500, "INTERNAL"], [501, "UNIMPLEMENTED"], [503, "UNAVAILABLE"], [504, "DEADLINE_EXCEEDED"], [418, "FAILED_PRECONDITION"], [599, "INTERNAL"],
  ];
  for (const [code, name] of table) assert.equal(toGrpcStatus(code), GrpcStatus[name], `${code} -> ${name}`);
  const back: Array<[keyof typeof GrpcStatus, number]> = [
    ["CANCELLED", 499], ["UNKNOWN", 500], ["INVALID_ARGUMENT", 400], ["DEADLINE_EXCEEDED", 408], ["NOT_FOUND", 404], ["ALREADY_EXISTS", 409],
    ["PERMISSION_DENIED", 403], ["RESOURCE_EXHAUSTED", 429], ["FAILED_PRECONDITION", 412], ["ABORTED", 409], ["OUT_OF_RANGE", 400],
    ["UNIMPLEMENTED", 501], ["INTERNAL", 500], ["UNAVAILABLE", 503], ["DATA_LOSS", 500], ["UNAUTHENTICATED", 401],
  ];
  for (const [name, code] of back) assert.equal(fromGrpcStatus(GrpcStatus[name]), code, `${name} -> ${code}`);
  assert.equal(fromGrpcStatus(99), 500);
});

test("a micro-ts peer's MicroError comes back exactly; a foreign status becomes one with id grpc", () => {
  const original = new MicroError("users", 409, "name taken", "Conflict");
  assert.deepEqual(errorFromStatus(6, "name taken", JSON.stringify(original.toJSON())).toJSON(), original.toJSON());
  assert.deepEqual(errorFromStatus(5, "gone", undefined).toJSON(), { id: "grpc", code: 404, detail: "gone", status: "Not Found" });
  assert.deepEqual(errorFromStatus(14, "", "not json").toJSON(), { id: "grpc", code: 503, detail: "UNAVAILABLE", status: "Service Unavailable" });
});

test("grpc-message is percent-encoded outside printable ASCII and decodes back", () => {
  for (const text of ["plain text", "100% sure", "ünïcödé ✓", "line\nbreak"]) assert.equal(decodeGrpcMessage(encodeGrpcMessage(text)), text);
  assert.equal(encodeGrpcMessage("a%b"), "a%25b");
  assert.equal(decodeGrpcMessage("bad %zz escape"), "bad %zz escape");
});

test("grpc-timeout parses every unit and formats within 8 digits", () => {
  assert.equal(parseGrpcTimeout("1H"), 3_600_000);
  assert.equal(parseGrpcTimeout("2M"), 120_000);
  assert.equal(parseGrpcTimeout("3S"), 3000);
  assert.equal(parseGrpcTimeout("250m"), 250);
  assert.equal(parseGrpcTimeout("5000u"), 5);
  assert.equal(parseGrpcTimeout("1000000n"), 1);
  for (const bad of ["", "10", "123456789m", "1x", "-1S"]) assert.equal(parseGrpcTimeout(bad), undefined, bad);
  assert.equal(formatGrpcTimeout(1500), "1500m");
  assert.equal(formatGrpcTimeout(0), "1m");
  assert.ok(/^\d{1,8}[HMSm]$/.test(formatGrpcTimeout(1e12)));
});

test("paths: /<package>.<Service>/<Method> <-> endpoint Service.Method", () => {
  assert.deepEqual(parsePath("/greeter.v1.Greeter/Hello"), { fullService: "greeter.v1.Greeter", pkg: "greeter.v1", endpoint: "Greeter.Hello" });
  assert.deepEqual(parsePath("/Greeter/Hello"), { fullService: "Greeter", pkg: "", endpoint: "Greeter.Hello" });
  for (const bad of ["", "/", "/a", "/a/", "//b", "/a/b/c", "a/b"]) assert.equal(parsePath(bad), undefined, bad);
  assert.equal(grpcPath("greeter", "Greeter.Hello", "other.Other,greeter.v1.Greeter"), "/greeter.v1.Greeter/Hello");
  assert.equal(grpcPath("greeter", "Greeter.Hello"), "/greeter.Greeter/Hello");
  assert.equal(grpcPath("", "Greeter.Hello"), "/Greeter/Hello");
});

test("content types: protobuf and JSON have their gRPC forms; others are refused, not sent as protobuf", () => {
  assert.equal(grpcContentType("application/protobuf"), "application/grpc");
  assert.equal(grpcContentType("application/json"), "application/grpc+json");
  assert.equal(microContentType("application/grpc"), "application/protobuf");
  assert.equal(microContentType("application/grpc+proto"), "application/protobuf");
  assert.equal(microContentType("application/grpc+json; charset=utf-8"), "application/json");
  assert.equal(microContentType("text/plain"), undefined);
  assert.throws(() => grpcContentType("text/yaml"), (e: unknown) => e instanceof MicroError && e.code === 400 && /unsupported content type "text\/yaml"/.test(e.detail));
});

test("metadata keeps its keys' case and reserved names across headers; bad values are refused", () => {
  const md = { "Content-Type": "application/json", "Micro-Topic": "events", "x-plain": "1", "X-Data-Bin": "AAH/", te: "mine" };
  const h: Record<string, string> = {};
  metadataToHeaders(md, h);
  assert.equal(h["micro-md-content-type"], "application/json");
  assert.equal(h["micro-topic"], "events");
  assert.equal(h["x-data-bin"], "AAH/");
  assert.deepEqual(headersToMetadata({ ...h, ":path": "/a/b", "content-type": "application/grpc", "grpc-timeout": "1S" }), md);
  assert.throws(() => metadataToHeaders({ "x-bad": "line\nbreak" }, {}), (e: unknown) => e instanceof MicroError && e.code === 400);
  assert.throws(() => metadataToHeaders({ "bad key": "v" }, {}), (e: unknown) => e instanceof MicroError && e.code === 400);
});
