/**
 * `protoJsonName` is the one field → JSON name rule (generator, ts-proto codec, gateway). It must agree with the
 * `json_name` protoc itself writes into descriptors, including for names where a simple regex would not.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { protoJsonName } from "../../src/proto/json-name.js";
import { ROOT } from "../generator/support.js";

const TRICKY = ["foo_bar", "foo__bar", "field_A", "_leading", "trailing_", "a1_b2", "a_1", "x_y_z", "already_camelCase", "snake_9_x", "UPPER_CASE", "b__"];

const dir = mkdtempSync(join(tmpdir(), "json-name-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("protoJsonName agrees with protoc's json_name for tricky field names", () => {
  // One message per name: protoc refuses two fields of one message with the same JSON name (foo_bar, foo__bar).
  const messages = TRICKY.map((name, i) => `message M${i} {\n  string ${name} = 1;\n}\n`).join("");
  writeFileSync(join(dir, "names.proto"), `syntax = "proto3";\npackage names;\n${messages}`);
  const out = join(dir, "set.bin");
  execFileSync(join(ROOT, "node_modules/.bin/protoc"), ["-I", dir, "--include_imports", `--descriptor_set_out=${out}`, "names.proto"], { stdio: "pipe" });
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
  const fields = set.file.find((f) => f.name === "names.proto")!.messageType.flatMap((m) => m.field);
  assert.deepEqual(fields.map((f) => f.name), TRICKY);
  for (const f of fields) assert.equal(protoJsonName(f.name), f.jsonName, `field ${f.name}`);
});

test("protoJsonName on known cases", () => {
  assert.equal(protoJsonName("user_id"), "userId");
  assert.equal(protoJsonName("foo__bar"), "fooBar");
  assert.equal(protoJsonName("field_A"), "fieldA");
  assert.equal(protoJsonName("trailing_"), "trailing");
  assert.equal(protoJsonName("_leading"), "Leading");
  assert.equal(protoJsonName("a1_b2"), "a1B2");
});
