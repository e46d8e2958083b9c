import assert from "node:assert/strict";
import { test } from "node:test";
import type { Target } from "../../src/api/resolve.js";
import type { RouteTable } from "../../src/api/routes.js";
import { TargetCache } from "../../src/api/target-cache.js";

const hello: Target = { service: "greeter", endpoint: "Greeter.Hello", kind: "unary" };

function table(): { version: number } {
  return { version: 0 };
}

test("target cache: keyed by method and raw path", () => {
  const routes = table();
  const cache = new TargetCache(routes as unknown as RouteTable);
  cache.set("POST", "/greeter/hello", hello, 0);
  assert.equal(cache.get("POST", "/greeter/hello"), hello);
  assert.equal(cache.get("GET", "/greeter/hello"), undefined);
  assert.equal(cache.get("POST", "/greeter/hello/"), undefined);
});

test("target cache: a route table change drops every entry", () => {
  const routes = table();
  const cache = new TargetCache(routes as unknown as RouteTable);
  cache.set("POST", "/greeter/hello", hello, 0);
  routes.version++;
  assert.equal(cache.get("POST", "/greeter/hello"), undefined);
});

test("target cache: a target resolved before a change is not stored after it", () => {
  const routes = table();
  const cache = new TargetCache(routes as unknown as RouteTable);
  const resolvedAt = routes.version;
  routes.version++;
  cache.set("POST", "/greeter/hello", hello, resolvedAt);
  assert.equal(cache.get("POST", "/greeter/hello"), undefined);
});

test("target cache: bounded; starts over at the limit", () => {
  const cache = new TargetCache(table() as unknown as RouteTable, 2);
  cache.set("GET", "/a", hello, 0);
  cache.set("GET", "/b", hello, 0);
  cache.set("GET", "/c", hello, 0);
  assert.equal(cache.get("GET", "/a"), undefined);
  assert.equal(cache.get("GET", "/c"), hello);
});
