/**
 * `micro call`, `micro stream` and `micro api` reach a service started with `--transport grpc` through
 * discovery exactly as they reach a tcp one: the commands run on the default (tcp) transport and call the
 * grpc node over gRPC because its registry record says so.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { micro, startFixture, startGateway, stop, testEnv, type Env, type Fixture } from "./support.js";

let env: Env;
let remove: () => void;
let greeter: Fixture;
let gateway: Fixture;
let url: string;

before(async () => {
  ({ env, remove } = testEnv());
  ({ proc: greeter } = await startFixture("greeter-service", { ...env, MICRO_TRANSPORT: "grpc" }));
  ({ proc: gateway, url } = await startGateway(env));
});

after(async () => {
  await Promise.all([stop(greeter), stop(gateway)]);
  remove();
});

test("the node publishes transport grpc and its full gRPC service names", async () => {
  const r = await micro(["get", "service", "greeter", "--output", "json"], env);
  assert.equal(r.code, 0, r.stderr);
  const md = JSON.parse(r.stdout)[0].nodes[0].metadata;
  assert.equal(md.transport, "grpc");
  assert.equal(md.protocol, "grpc");
  assert.match(md.grpc_services, /Greeter/);
});

test("micro call and micro stream reach the grpc node; its errors come back as MicroErrors", async () => {
  const r = await micro(["call", "greeter", "Greeter.Hello", '{"name":"John"}'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /John/);
  const s = await micro(["stream", "greeter", "Greeter.Chat"], env, '{"name":"a"}\n{"name":"b"}\n');
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout.trim().split("\n").length, 2, s.stdout);
  const f = await micro(["call", "greeter", "Greeter.Fail", '{"count":403}'], env);
  assert.equal(f.code, 1);
  assert.equal(JSON.parse(f.stderr.trim().split("\n").pop()!).code, 403);
});

test("micro api reaches the grpc node over its Go Micro path", async () => {
  const deadline = Date.now() + 30_000;
  let last = "";
  for (;;) {
    const r = await fetch(`${url}/greeter/hello`, { method: "POST", body: '{"name":"Api"}', headers: { "content-type": "application/json" } });
    last = `${r.status} ${await r.text()}`;
    if (r.status === 200 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.match(last, /^200 .*Api/);
});
