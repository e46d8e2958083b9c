/**
 * What the prompt does with an entry's words: run a one-shot command (with the session's global flags unless
 * the entry sets them), help, exit, or refuse commands that belong in a shell and unknown words.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { classify, helpText } from "../../../src/cli/interactive/commands.js";

const flags = ["--registry", "local", "--registry_address", "/tmp/r"];

test("commands run with the session's global flags, unless the entry sets them", () => {
  assert.deepEqual(classify(["list", "services"], flags), { kind: "run", argv: ["list", "services", ...flags] });
  assert.deepEqual(classify(["call", "g", "G.H", "--registry_address=/x"], flags), { kind: "run", argv: ["call", "g", "G.H", "--registry_address=/x", "--registry", "local"] });
  assert.deepEqual(classify(["health", "g", "--registry", "etcd"], flags), { kind: "run", argv: ["health", "g", "--registry", "etcd", "--registry_address", "/tmp/r"] });
});

test("help, exit, empty, and what the prompt does not run", () => {
  assert.deepEqual(classify([]), { kind: "empty" });
  assert.deepEqual(classify(["exit"]), { kind: "exit" });
  assert.deepEqual(classify(["help"]), { kind: "help" });
  assert.deepEqual(classify(["help", "call"]), { kind: "help", topic: "call" });
  const api = classify(["api"]);
  assert.equal(api.kind, "refuse");
  assert.match((api as { message: string }).message, /^`api` is not available at the prompt: run `micro api` from a shell/);
  assert.match((classify(["cli"]) as { message: string }).message, /not available at the prompt/);
  assert.match((classify(["lst", "services"]) as { message: string }).message, /^unknown command "lst"; the commands are: call, get, health, list, publish, stream, help, exit$/);
  assert.match(helpText(), /^ {2}stream <service> <endpoint> \[request\] {2}Call a streaming endpoint/m);
});
