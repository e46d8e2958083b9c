import { test } from "node:test";
import assert from "node:assert/strict";
import { buildRuleRequest, matchTemplate, parseTemplate, ruleResponse } from "../../src/api/http-rule.js";
import { protoJsonName } from "../../src/proto/json-name.js";
import { MicroError } from "../../src/runtime/errors/index.js";

test("literal and single-segment variables", () => {
  const t = parseTemplate("/v1/users/{user_id}");
  assert.deepEqual(matchTemplate(t, ["v1", "users", "42"]), { user_id: "42" });
  assert.equal(matchTemplate(t, ["v1", "users"]), undefined);
  assert.equal(matchTemplate(t, ["v1", "users", "42", "x"]), undefined);
  assert.equal(matchTemplate(t, ["v2", "users", "42"]), undefined);
});

test("variables with sub-templates and nested field paths", () => {
  const t = parseTemplate("/v1/{name=messages/*}");
  assert.deepEqual(matchTemplate(t, ["v1", "messages", "123"]), { name: "messages/123" });
  assert.equal(matchTemplate(t, ["v1", "other", "123"]), undefined);
  const t2 = parseTemplate("/v1/shelves/{book.shelf}/books/{book.id}");
  assert.deepEqual(matchTemplate(t2, ["v1", "shelves", "s1", "books", "b2"]), { "book.shelf": "s1", "book.id": "b2" });
});

test("** matches the rest of the path, verbs follow a colon", () => {
  const t = parseTemplate("/files/{path=**}");
  assert.deepEqual(matchTemplate(t, ["files", "a", "b", "c.txt"]), { path: "a/b/c.txt" });
  const v = parseTemplate("/v1/{name=operations/*}:cancel");
  assert.equal(v.verb, "cancel");
  assert.deepEqual(matchTemplate(v, ["v1", "operations", "op1:cancel"]), { name: "operations/op1" });
  assert.equal(matchTemplate(v, ["v1", "operations", "op1"]), undefined);
});

test("invalid templates are rejected with a message", () => {
  for (const bad of ["v1/x", "/v1/{x", "/v1/{a={b}}", "/v1/**/x", "/v1//x", "/v1/{1x}"]) assert.throws(() => parseTemplate(bad), Error, bad);
});

test("body '*', path variables and typed query parameters build the request", () => {
  const fields = [
    { name: "user_id", type: "string" },
    { name: "count", type: "int32" },
    { name: "loud", type: "bool" },
    { name: "tags", type: "string[]" },
    { name: "page", type: "greeter.Page", values: [{ name: "size", type: "int32" }] },
  ];
  const vars = { user_id: "7" };
  const q = new URLSearchParams("count=3&loud=true&tags=a&tags=b&page.size=10");
  assert.deepEqual(buildRuleRequest({ method: "GET", path: "/u/{user_id}" }, vars, undefined, q, fields), {
    userId: "7",
    count: 3,
    loud: true,
    tags: ["a", "b"],
    page: { size: 10 },
  });
  // body "*": the whole body, path wins, query ignored.
  assert.deepEqual(buildRuleRequest({ method: "POST", path: "/u/{user_id}", body: "*" }, vars, { name: "x", userId: "no" }, q, fields), { name: "x", userId: "7" });
  // body field: the body goes into that field; query fills the rest.
  assert.deepEqual(buildRuleRequest({ method: "POST", path: "/u/{user_id}", body: "page" }, vars, { size: 5 }, new URLSearchParams("count=1"), fields), {
    page: { size: 5 },
    userId: "7",
    count: 1,
  });
  assert.throws(() => buildRuleRequest({ method: "POST", path: "/x", body: "*" }, {}, [1, 2], q), (e: unknown) => e instanceof MicroError && e.code === 400);
});

test("query parameter names map to JSON names by protoc's rule (foo__bar, field_A, trailing_)", () => {
  const fields = [
    { name: "fooBar", type: "int32" },
    { name: "fieldA", type: "string" },
    { name: "trailing", type: "bool" },
  ];
  const q = new URLSearchParams("foo__bar=3&field_A=x&trailing_=true");
  assert.deepEqual(buildRuleRequest({ method: "GET", path: "/x" }, {}, undefined, q, fields), { fooBar: 3, fieldA: "x", trailing: true });
});

test("query parameters cannot reach the prototype", () => {
  const out = buildRuleRequest({ method: "GET", path: "/x" }, {}, undefined, new URLSearchParams("__proto__.polluted=1&constructor.prototype.x=1"));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
});

test("response_body selects one field", () => {
  assert.deepEqual(ruleResponse({ method: "GET", path: "/x", responseBody: "user_info" }, { userInfo: { a: 1 }, other: 2 }), { a: 1 });
  assert.deepEqual(ruleResponse({ method: "GET", path: "/x" }, { a: 1 }), { a: 1 });
  assert.equal(protoJsonName("a_b_c"), "aBC");
});
