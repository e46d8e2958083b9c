import assert from "node:assert/strict";
import { test } from "node:test";
import { isSingleValueWellKnown, wellKnownJson } from "../../src/proto/well-known.js";

test("the well-known JSON table: forms, wrapped scalars, single-value types", () => {
  assert.deepEqual(wellKnownJson("google.protobuf.Int64Value"), { kind: "string", display: "string (int64) or null", wraps: "int64" });
  assert.equal(wellKnownJson("google.protobuf.Timestamp")?.display, "string (RFC 3339)");
  assert.equal(wellKnownJson("constructor"), undefined);
  assert.equal(wellKnownJson("greeter.Request"), undefined);
  for (const t of ["Timestamp", "Duration", "FieldMask", "BoolValue", "DoubleValue", "BytesValue"]) assert.ok(isSingleValueWellKnown(`google.protobuf.${t}`), t);
  for (const t of ["Struct", "Value", "ListValue", "Any", "Empty"]) assert.ok(!isSingleValueWellKnown(`google.protobuf.${t}`), t);
});
