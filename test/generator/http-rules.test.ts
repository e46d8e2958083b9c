/**
 * `google.api.http` rules that cannot work are refused at generation: protoc-gen-micro exits 1 with a message
 * naming the proto file, service, method and rule, and protoc writes no files. The bad protos are in
 * fixtures/proto-invalid/http (outside fixtures/proto, so the golden tests never see them).
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, describe, it } from "node:test";
import { join } from "node:path";
import { parseTemplate } from "../../src/generator/http-check.js";
import { FIXTURES, ROOT, listFiles, pluginPath, run, tempDir, type Run } from "./support.js";

const INVALID = join(ROOT, "fixtures/proto-invalid");

function protocInvalid(out: string, protos: readonly string[], microOpt = "import_extension=js"): Promise<Run> {
  return run(join(ROOT, "node_modules/.bin/protoc"), [
    "-I",
    FIXTURES,
    "-I",
    INVALID,
    `--plugin=protoc-gen-micro=${pluginPath()}`,
    `--micro_out=${out}`,
    `--micro_opt=${microOpt}`,
    ...protos,
  ]);
}

const at = (file: string, service: string, method: string, rule: string): string =>
  `http/${file}.proto: service invalid.v1.${service}, method ${method}, google.api.http ${rule}: `;
const fields = "(fields: id, name, thing, tags, labels, at)";

/** Each fixture and the whole message it must produce (after `protoc-gen-micro: `). */
const cases: Array<[string, string]> = [
  ["variable_unknown", `${at("variable_unknown", "Things", "Get", 'rule get "/v1/things/{nope}"')}path variable "nope" names no field of invalid.v1.GetThingRequest ${fields}`],
  [
    "variable_nested_unknown",
    `${at("variable_nested_unknown", "Things", "Get", 'rule get "/v1/things/{thing.nope}"')}path variable "thing.nope": "nope" names no field of invalid.v1.Thing (fields: id, name)`,
  ],
  [
    "variable_through_scalar",
    `${at("variable_through_scalar", "Things", "Get", 'rule get "/v1/things/{id.value}"')}path variable "id.value": invalid.v1.GetThingRequest.id is not a message, so "value" cannot be one of its fields`,
  ],
  [
    "variable_repeated",
    `${at("variable_repeated", "Things", "Get", 'rule get "/v1/things/{tags}"')}path variable "tags": invalid.v1.GetThingRequest.tags is a repeated field; a path variable must name a singular field`,
  ],
  [
    "variable_message",
    `${at("variable_message", "Things", "Get", 'rule get "/v1/things/{thing}"')}path variable "thing": invalid.v1.GetThingRequest.thing is a message (invalid.v1.Thing); a path variable must name a scalar, enum or well-known type written as a string`,
  ],
  ["body_unknown", `${at("body_unknown", "Things", "Get", 'rule post "/v1/things"')}body "nope" names no field of invalid.v1.GetThingRequest ${fields}`],
  ["body_nested", `${at("body_nested", "Things", "Get", 'rule post "/v1/things"')}body "thing.id" must name a top-level field of invalid.v1.GetThingRequest`],
  [
    "response_body_unknown",
    `${at("response_body_unknown", "Things", "Get", 'rule get "/v1/things/{id}"')}response_body "nope" names no field of invalid.v1.Thing (fields: id, name)`,
  ],
  ["template_no_slash", `${at("template_no_slash", "Things", "Get", 'rule get "v1/things"')}malformed path template: must start with "/"`],
  ["template_unbalanced", `${at("template_unbalanced", "Things", "Get", 'rule get "/v1/things/{id"')}malformed path template: unbalanced "{" at offset 11`],
  ["template_empty_segment", `${at("template_empty_segment", "Things", "Get", 'rule get "/v1//things"')}malformed path template: empty segment at offset 4`],
  ["template_trailing_slash", `${at("template_trailing_slash", "Things", "Get", 'rule get "/v1/things/"')}malformed path template: empty segment at offset 11`],
  ["template_bad_verb", `${at("template_bad_verb", "Things", "Get", 'rule post "/v1/things:"')}malformed path template: empty verb after ":"`],
  ["template_verb_with_slash", `${at("template_verb_with_slash", "Things", "Get", 'rule post "/v1/things:run/now"')}malformed path template: bad verb ":run/now"`],
  ["custom_kind", `${at("custom_kind", "Things", "Get", 'rule custom { kind: "GE T" path: "/v1/things" }')}custom kind "GE T" is not an HTTP method`],
  ["no_pattern", `${at("no_pattern", "Things", "Get", "rule (no pattern)")}no pattern (set one of get, put, post, delete, patch, custom)`],
  [
    "duplicate",
    `${at("duplicate", "Archive", "Find", 'additional_bindings[0] get "/v1/things/{name}"')}same verb and path as service invalid.v1.Things, method Get, google.api.http rule get "/v1/things/{id}"`,
  ],
];

describe("google.api.http rules are checked at generation", () => {
  const tmp = tempDir("http-rules");
  after(() => tmp.remove());
  let n = 0;
  const outDir = (): string => {
    const dir = join(tmp.dir, `out${n++}`);
    mkdirSync(dir);
    return dir;
  };

  for (const [file, message] of cases) {
    it(`refuses http/${file}.proto: exit 1, the message, no files`, async () => {
      const out = outDir();
      const result = await protocInvalid(out, [`http/${file}.proto`]);
      assert.notEqual(result.code, 0);
      assert.ok(result.stderr.includes(`protoc-gen-micro: ${message}\n`), `expected\n  ${message}\nin\n${result.stderr}`);
      assert.deepEqual(listFiles(out), []);
    });
  }

  it("reports every problem of a file, and writes nothing for the good files of the same run", async () => {
    const out = outDir();
    const result = await protocInvalid(out, ["greeter/v1/greeter.proto", "http/several.proto"], "target=js+dts");
    assert.notEqual(result.code, 0);
    const lines = result.stderr.split("\n").filter((l) => l.includes("http/several.proto: "));
    assert.deepEqual(
      lines.map((l) => l.replace(/^protoc-gen-micro: /, "").replace(/^http\/several\.proto: service invalid\.v1\.Things, /, "")),
      [
        `method Get, google.api.http rule get "/v1/things/{nope}": path variable "nope" names no field of invalid.v1.GetThingRequest ${fields}`,
        'method Get, google.api.http additional_bindings[0] get "v1/things": malformed path template: must start with "/"',
        `method Put, google.api.http rule put "/v1/things/{id}": body "nope" names no field of invalid.v1.GetThingRequest ${fields}`,
        'method Put, google.api.http rule put "/v1/things/{id}": response_body "missing" names no field of invalid.v1.Thing (fields: id, name)',
      ],
    );
    assert.deepEqual(listFiles(out), []);
  });

  it("parses the templates of the grammar (variables, shape used to find duplicates)", () => {
    const ok: Array<[string, string[], string]> = [
      ["/", [], "/"],
      ["/v1/items/{id}", ["id"], "/v1/items/*"],
      ["/v1/items/{item.id}", ["item.id"], "/v1/items/*"],
      ["/v1/{name=shelves/*/books/*}", ["name"], "/v1/shelves/*/books/*"],
      ["/v1/items:search", [], "/v1/items:search"],
      ["/v1/{name=things/*}:cancel", ["name"], "/v1/things/*:cancel"],
      ["/v1/files/{path=**}", ["path"], "/v1/files/**"],
      ["/v1/*/x/**", [], "/v1/*/x/**"],
      ["/v1/a%20b/@me/{a}/{b}", ["a", "b"], "/v1/a%20b/@me/*/*"],
    ];
    for (const [template, variables, shape] of ok) assert.deepEqual(parseTemplate(template), { variables, shape }, template);
  });

  it("rejects templates outside the grammar, saying why", () => {
    const bad: Array<[string, RegExp]> = [
      ["", /must start with "\/"/],
      ["v1/things", /must start with "\/"/],
      ["/v1/things/{id", /unbalanced "\{"/],
      ["/v1/things/id}", /unbalanced "\}"/],
      ["/v1//things", /empty segment/],
      ["//", /empty segment/],
      ["/v1/things/", /empty segment/],
      ["/v1/things:", /empty verb/],
      ["/v1/a:b/c", /bad verb ":b\/c"/],
      ["/v1/{a={b}}", /variable inside a variable/],
      ["/v1/{a.}", /bad field path "a\."/],
      ["/v1/{1a}", /bad field path "1a"/],
      ["/v1/{a}/{a}", /variable "a" bound twice/],
      ["/v1/**/x", /"\*\*" must be the last segment/],
      ["/v1/{p=**}/x", /"\*\*" must be the last segment/],
      ["/v1/a*", /unexpected "\*"/],
      ["/v1/*a", /"\*" followed by "a"/],
      ["/v1/a b", /bad literal segment "a b"/],
      ["/v1/{a=x:y}", /unexpected ":" at offset \d+ in a variable/],
    ];
    for (const [template, reason] of bad) assert.throws(() => parseTemplate(template), reason, template);
  });
});
