import { test } from "node:test";
import assert from "node:assert/strict";
import { durationFlag, formatReply, metadataFlag } from "../../src/cli/commands/lib/io.js";
import { serviceText } from "../../src/runtime/registry/describe.js";
import { endpointRules } from "../../src/api/routes.js";
import { endpointKind } from "../../src/runtime/target/index.js";
import { UsageError } from "../../src/runtime/errors/usage.js";

test("--metadata k=v, repeatable; bad entries are usage errors", () => {
  assert.deepEqual(metadataFlag(["a=1", "b=x=y", "c="]), { a: "1", b: "x=y", c: "" });
  assert.deepEqual(metadataFlag(undefined), {});
  assert.deepEqual(metadataFlag("k=v"), { k: "v" });
  assert.throws(() => metadataFlag(["novalue"]), UsageError);
  assert.throws(() => metadataFlag(["=v"]), UsageError);
});

test("--timeout durations", () => {
  assert.equal(durationFlag("2s", "timeout"), 2000);
  assert.equal(durationFlag("250ms", "timeout"), 250);
  assert.equal(durationFlag("1500", "timeout"), 1500);
  assert.equal(durationFlag(undefined, "timeout"), undefined);
  assert.throws(() => durationFlag("soon", "timeout"), UsageError);
  assert.throws(() => durationFlag("0", "timeout"), UsageError);
});

test("--output json and text", () => {
  assert.equal(formatReply({ a: 1 }, "json"), '{\n  "a": 1\n}');
  assert.equal(formatReply({ message: "hi", n: 2, o: { x: 1 } }, "text"), 'message: hi\nn: 2\no: {"x":1}');
  assert.equal(formatReply([1], "text"), "[\n  1\n]");
});

test("get service text layout", () => {
  const text = serviceText([
    {
      name: "greeter",
      version: "1",
      nodes: [{ id: "n1", address: "127.0.0.1:1", metadata: { b: "2", a: "1" } }],
      endpoints: [
        {
          name: "Greeter.Hello",
          metadata: { stream: "unary" },
          request: { name: "HelloRequest", type: "HelloRequest", values: [{ name: "page", type: "Page", values: [{ name: "size", type: "int32" }] }] },
        },
      ],
    },
  ]);
  assert.equal(
    text,
    "service  greeter\n\nversion 1\n\nID\tAddress\tMetadata\nn1\t127.0.0.1:1\ta=1,b=2\n\nEndpoint: Greeter.Hello\nMetadata: stream=unary\n\nRequest: {\n\tpage Page {\n\t\tsize int32\n\t}\n}\n\nResponse: {}",
  );
});

test("endpoint metadata: kind and http rules", () => {
  assert.equal(endpointKind({ name: "A.B", metadata: { stream: "bidi_streaming" } }), "bidi_streaming");
  assert.equal(endpointKind({ name: "A.B", metadata: {} }), "unary");
  assert.equal(endpointKind({ name: "A.B", metadata: { stream: "true" } }), "bidi_streaming");
  assert.deepEqual(endpointRules({ name: "A.B", metadata: { http: '[{"method":"GET","path":"/x"},{"bad":1}]' } }), [{ method: "GET", path: "/x" }]);
  assert.deepEqual(endpointRules({ name: "A.B", metadata: { http: "{not json" } }), []);
});
