/**
 * `GET /openapi.json` on the real `micro api` bin in front of a real service process: the document of what the
 * gateway routes (http rules and rpc routes), built from the registry's endpoint records, valid under
 * @readme/openapi-parser, and true: requests made as it describes reach the endpoints it names.
 */
import { validate } from "@readme/openapi-parser";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startFixture, startGateway, stop, testEnv, type Env, type Fixture } from "../cli/support.js";

type Json = Record<string, any>;

let env: Env;
let remove: () => void;
const procs: Fixture[] = [];
let url = "";

before(async () => {
  ({ env, remove } = testEnv());
  const service = await startFixture("greeter-service", env);
  procs.push(service.proc);
  const gw = await startGateway(env, ["--cors", "*"]);
  procs.push(gw.proc);
  url = gw.url;
});

after(async () => {
  await Promise.all(procs.map((p) => stop(p)));
  remove();
});

test("the gateway serves a valid OpenAPI 3.1 document of its routes", async () => {
  const rsp = await fetch(`${url}/openapi.json`, { headers: { origin: "http://swagger.example" } });
  assert.equal(rsp.status, 200);
  assert.match(rsp.headers.get("content-type") ?? "", /application\/json/);
  assert.equal(rsp.headers.get("access-control-allow-origin"), "*", "Swagger UI on another origin may read it");
  const doc = (await rsp.json()) as Json;
  const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
  assert.equal(result.valid, true, JSON.stringify(result));
  assert.equal(doc.openapi, "3.1.0");

  // http rules, with their path parameters and bodies.
  assert.equal(doc.paths["/v1/greet"].post["x-micro-endpoint"], "Greeter.Hello");
  assert.deepEqual(doc.paths["/v1/greet"].post.requestBody.content["application/json"].schema, { $ref: "#/components/schemas/test.greeter.HelloRequest" });
  const byName = doc.paths["/v1/greet/{name}"].get;
  assert.deepEqual(
    byName.parameters.map((p: Json) => [p.in, p.name]),
    [
      ["path", "name"],
      ["query", "count"],
      ["query", "loud"],
    ],
  );
  assert.match(doc.paths["/v1/{name}"].get.parameters[0].description, /users\/\*/, "the variable's pattern is described");
  assert.deepEqual(doc.paths["/v1/{name}"].get.responses["200"].content["application/json"].schema, { $ref: "#/components/schemas/test.users.User" }, "response_body: user");
  assert.deepEqual(Object.keys(doc.components.schemas["test.users.User"].properties), ["email", "name"], "the fields of every description of a type");
  assert.ok(doc.paths["/v1/greet/{name}:stream"].get.responses["200"].content["application/x-ndjson"], "a server stream");
  // Methods without rules: the rpc route. Client and bidi streams (WebSocket only) are not in the document.
  for (const m of ["fail", "slow"]) assert.equal(doc.paths[`/greeter/${m}`].post["x-micro-service"], "greeter");
  assert.equal(doc.paths["/greeter/upload"], undefined);
  assert.equal(doc.paths["/greeter/chat"], undefined);
  // Messages from the registry's value trees, in the proto3 JSON mapping.
  const hello = doc.components.schemas["test.greeter.HelloRequest"];
  assert.deepEqual(hello.properties, { name: { type: "string" }, count: { type: "integer", format: "int32" }, loud: { type: "boolean" } });
  assert.deepEqual(doc.components.schemas["micro.Error"].required, ["id", "code", "detail", "status"]);
});

test("requests made as the document says reach the endpoints it names, errors in its error shape", async () => {
  const doc = (await (await fetch(`${url}/openapi.json`)).json()) as Json;
  const ok = await fetch(`${url}/v1/greet/${encodeURIComponent("Ann")}?loud=true`);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { message: "HELLO ANN" });
  const failPath = Object.keys(doc.paths).find((p) => doc.paths[p].post?.["x-micro-endpoint"] === "Greeter.Fail")!;
  const failed = await fetch(`${url}${failPath}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ count: 409 }) });
  assert.equal(failed.status, 409);
  const body = (await failed.json()) as Json;
  for (const key of doc.components.schemas["micro.Error"].required as string[]) assert.ok(key in body, `the error has ${key}`);
});
