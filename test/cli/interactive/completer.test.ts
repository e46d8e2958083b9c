/**
 * Tab completion: commands, then each command's next word, services and endpoints from the source; options
 * and their values are skipped; a failing source completes nothing and reports the error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { CompletionSource } from "../../../src/cli/interactive/catalog.js";
import { createCompleter } from "../../../src/cli/interactive/completer.js";

const endpoints: Record<string, string[]> = { greeter: ["Greeter.Hello", "Greeter.Stream"], "go.micro.srv.store": ["Store.Read"] };
const source: CompletionSource = {
  services: async () => Object.keys(endpoints).sort(),
  endpoints: async (service) => endpoints[service] ?? [],
};
const complete = createCompleter(source);

test("the command word", async () => {
  assert.deepEqual(await complete(""), [["call", "get", "health", "list", "publish", "stream", "help", "exit"], ""]);
  assert.deepEqual(await complete("ca"), [["call "], "ca"]);
  assert.deepEqual(await complete("he"), [["health", "help"], "he"]);
  assert.deepEqual(await complete("nope"), [[], "nope"]);
  assert.deepEqual(await complete("help st"), [["stream "], "st"]);
});

test("the resource words of list and get", async () => {
  assert.deepEqual(await complete("list s"), [["services "], "s"]);
  assert.deepEqual(await complete("get "), [["service "], ""]);
  assert.deepEqual(await complete("get service g"), [["go.micro.srv.store", "greeter"], "g"]);
});

test("services, then endpoints of the service named", async () => {
  assert.deepEqual(await complete("call gr"), [["greeter "], "gr"]);
  assert.deepEqual(await complete("stream "), [["go.micro.srv.store", "greeter"], ""]);
  assert.deepEqual(await complete("health go"), [["go.micro.srv.store "], "go"]);
  assert.deepEqual(await complete("call greeter "), [["Greeter.Hello", "Greeter.Stream"], ""]);
  assert.deepEqual(await complete("call greeter Greeter.H"), [["Greeter.Hello "], "Greeter.H"]);
  assert.deepEqual(await complete("call nosuch Gr"), [[], "Gr"]);
  // Nothing after the endpoint (the request is JSON), nothing for publish topics.
  assert.deepEqual(await complete("call greeter Greeter.Hello "), [[], ""]);
  assert.deepEqual(await complete("publish "), [[], ""]);
});

test("options and their values are skipped; nothing inside JSON or quotes", async () => {
  assert.deepEqual(await complete("call --timeout 5s gr"), [["greeter "], "gr"]);
  assert.deepEqual(await complete("call --timeout=5s greeter Greeter.S"), [["Greeter.Stream "], "Greeter.S"]);
  assert.deepEqual(await complete("list --all s"), [["services "], "s"]);
  assert.deepEqual(await complete("call --timeout "), [[], ""]);
  assert.deepEqual(await complete("call --ti"), [[], "--ti"]);
  assert.deepEqual(await complete(`call greeter Greeter.Hello {"na`), [[], ""]);
});

test("a failing source completes nothing and reports why", async () => {
  const errors: unknown[] = [];
  const failing = createCompleter({ services: () => Promise.reject(new Error("registry down")), endpoints: async () => [] }, (e) => errors.push(e));
  assert.deepEqual(await failing("call g"), [[], "g"]);
  assert.equal((errors[0] as Error).message, "registry down");
});
