/**
 * One path-template grammar (src/http/template.ts) for the gateway and protoc-gen-micro: the gateway refuses
 * the templates the generator refuses (it used to route some of them), and the generator's view of a template
 * (variables as field paths, shape) comes from the same parse.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTemplate } from "../../src/http/template.js";
import { parseTemplate as gatewayParse, matchTemplate } from "../../src/api/http-rule.js";
import { parseTemplate as generatorParse } from "../../src/generator/http-check.js";

const GOOD = [
  "/",
  "/v1/items/{id}",
  "/v1/items/{item.id}",
  "/v1/{name=shelves/*/books/*}",
  "/v1/items:search",
  "/v1/{name=things/*}:cancel",
  "/v1/files/{path=**}",
  "/v1/*/x/**",
  "/v1/a%20b/@me/{a}/{b}",
];
const BAD = [
  "",
  "v1/things",
  "/v1/things/{id",
  "/v1/things/id}",
  "/v1//things",
  "//",
  "/v1/things/",
  "/v1/things:",
  "/v1/a:b/c",
  "/v1/{a={b}}",
  "/v1/{a.}",
  "/v1/{1a}",
  "/v1/{a}/{a}",
  "/v1/**/x",
  "/v1/{p=**}/x",
  "/v1/a*",
  "/v1/*a",
  "/v1/a b",
  "/v1/{a=x:y}",
];

function outcome(parse: (t: string) => unknown, template: string): string {
  try {
    parse(template);
    return "ok";
  } catch (error) {
    return (error as Error).message;
  }
}

test("the gateway parses with the shared grammar: templates outside it are refused, as protoc-gen-micro refuses them", () => {
  assert.equal(gatewayParse, parseTemplate);
  for (const t of ["/v1/{a}/{a}", "/v1/a b", "/v1/*a", "/v1/{a=x:y}", "/v1/things:"]) assert.throws(() => gatewayParse(t), Error, t);
});

test("protoc-gen-micro reads templates through the shared grammar: variables, shape, and why one is refused", () => {
  for (const t of GOOD) {
    const shared = parseTemplate(t);
    assert.deepEqual({ variables: shared.variables.map((v) => v.field.join(".")), shape: shared.shape }, generatorParse(t), t);
  }
  for (const t of BAD) assert.equal(outcome(parseTemplate, t), outcome(generatorParse, t), t);
});

test("matching with the shared templates: literals percent-decoded, ** takes the rest, verbs", () => {
  assert.deepEqual(matchTemplate(parseTemplate("/v1/a%20b/{id}"), ["v1", "a b", "7"]), { id: "7" });
  assert.deepEqual(matchTemplate(parseTemplate("/v1/files/{path=**}"), ["v1", "files", "a", "b"]), { path: "a/b" });
  assert.deepEqual(matchTemplate(parseTemplate("/v1/{name=things/*}:cancel"), ["v1", "things", "x:cancel"]), { name: "things/x" });
  assert.equal(matchTemplate(parseTemplate("/v1/items:search"), ["v1", "items"]), undefined);
});
