import { test } from "node:test";
import assert from "node:assert/strict";
import { pathSegments, resolvePath } from "../../src/api/resolve.js";
import { toCamel } from "../../src/http/rpc-route.js";
import { MicroError } from "../../src/runtime/errors/index.js";

test("Go Micro path resolution", () => {
  assert.deepEqual(resolvePath("/greeter/hello"), { service: "greeter", endpoint: "Greeter.Hello" });
  assert.deepEqual(resolvePath("/greeter/say/hello"), { service: "greeter", endpoint: "Say.Hello" });
  assert.deepEqual(resolvePath("/v1/greeter/hello"), { service: "v1.greeter", endpoint: "Greeter.Hello" });
  assert.deepEqual(resolvePath("/a/b/c/d"), { service: "a.b", endpoint: "C.D" });
  assert.deepEqual(resolvePath("/greeter"), { service: "greeter", endpoint: "Greeter.Call" });
  assert.deepEqual(resolvePath("/greeter/say_hello/"), { service: "greeter", endpoint: "Greeter.SayHello" });
  assert.deepEqual(resolvePath("/greeter/hello?x=1"), { service: "greeter", endpoint: "Greeter.Hello" });
});

test("a namespace prefixes the service", () => {
  assert.deepEqual(resolvePath("/greeter/hello", "com.example.api"), { service: "com.example.api.greeter", endpoint: "Greeter.Hello" });
  assert.deepEqual(resolvePath("/v1/greeter/hello", "ns"), { service: "ns.v1.greeter", endpoint: "Greeter.Hello" });
});

test("toCamel", () => {
  assert.equal(toCamel("say-hello"), "SayHello");
  assert.equal(toCamel("hello"), "Hello");
  assert.equal(toCamel("sayHello"), "SayHello");
});

test("traversal, encoded separators and control characters are rejected with 400", () => {
  for (const bad of ["/../etc/passwd", "/greeter/../etc", "/%2e%2e/etc/passwd", "/greeter/%2E%2E/x", "/a%2fb/c", "/a%5cb/c", "/a/./b", "/a//b", "/a%00/b", "/a%0d%0ab/c", "/%zz/a", "etc"]) {
    assert.throws(() => pathSegments(bad), (e: unknown) => e instanceof MicroError && e.code === 400, bad);
  }
});

test("an empty path has no service: 404", () => {
  assert.throws(() => resolvePath("/"), (e: unknown) => e instanceof MicroError && e.code === 404);
});

test("segments that cannot be names are rejected with 400", () => {
  assert.throws(() => resolvePath("/gre eter/hello"), (e: unknown) => e instanceof MicroError && e.code === 400);
  assert.throws(() => resolvePath("/greeter/he.llo"), (e: unknown) => e instanceof MicroError && e.code === 400);
});
