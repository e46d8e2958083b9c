/**
 * The prompt's tokenizer: shell quoting, bare JSON arguments that may span lines, and when an entry is
 * still open (another line is read) — brackets inside JSON strings and quotes do not count.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { completionWords, scan, tokenize } from "../../../src/cli/interactive/tokenize.js";

test("words, quotes and escapes", () => {
  assert.deepEqual(tokenize("  list   services "), ["list", "services"]);
  assert.deepEqual(tokenize(`call greeter Greeter.Hello '{"name": "John"}'`), ["call", "greeter", "Greeter.Hello", '{"name": "John"}']);
  assert.deepEqual(tokenize(`publish events "a \\"b\\" \\\\ c"`), ["publish", "events", 'a "b" \\ c']);
  assert.deepEqual(tokenize(`a\\ b 'x'"y"z`), ["a b", "xyz"]);
  assert.deepEqual(tokenize(`--metadata=x-user=ann ''`), ["--metadata=x-user=ann", ""]);
  assert.deepEqual(tokenize(""), []);
});

test("a bare JSON argument runs until its brackets balance, spaces included", () => {
  assert.deepEqual(tokenize(`call g G.H {"name": "John", "tags": ["a b", "c"]} --output text`), ["call", "g", "G.H", '{"name": "John", "tags": ["a b", "c"]}', "--output", "text"]);
  assert.deepEqual(tokenize(`x [1, [2, 3]]`), ["x", "[1, [2, 3]]"]);
  // Brackets and quotes inside JSON strings (escaped quotes too) do not count.
  assert.deepEqual(tokenize(`x {"a": "}]\\"{", "b": 'q'}`), ["x", `{"a": "}]\\"{", "b": 'q'}`]);
  // Only a bracket that starts an argument opens JSON.
  assert.deepEqual(tokenize(`x a{b c}`), ["x", "a{b", "c}"]);
});

test("open quotes, JSON and a trailing backslash ask for another line", () => {
  for (const open of [`call g G.H {"name":`, `call g G.H {"a": [1, 2`, `call g G.H '{"name"`, `publish t "x`, `list \\`, `x {"a": "}`]) {
    assert.equal(tokenize(open), undefined, open);
  }
  assert.equal(scan(`x {"a": 1`).open, "json");
  assert.equal(scan(`x 'a`).open, "'");
  assert.equal(scan(`x "a`).open, '"');
  assert.equal(scan(`x \\`).open, "\\");
});

test("multi-line entries: JSON line breaks become spaces, quoted ones are kept, backslash-newline joins", () => {
  assert.deepEqual(tokenize(`call greeter Greeter.Hello {\n  "name": "John",\n  "loud": true\n}`), ["call", "greeter", "Greeter.Hello", `{   "name": "John",   "loud": true }`]);
  assert.deepEqual(JSON.parse(tokenize(`c g G.H {\n"name":\n"John"\n}`)![3]!), { name: "John" });
  assert.deepEqual(tokenize(`stream g G.Chat '{"name":"a"}\n{"name":"b"}'`), ["stream", "g", "G.Chat", `{"name":"a"}\n{"name":"b"}`]);
  assert.deepEqual(tokenize(`list \\\nservices`), ["list", "services"]);
});

test("completion words: the finished words and the one being typed", () => {
  assert.deepEqual(completionWords(""), { words: [], current: "" });
  assert.deepEqual(completionWords("ca"), { words: [], current: "ca" });
  assert.deepEqual(completionWords("call gre"), { words: ["call"], current: "gre" });
  assert.deepEqual(completionWords("call greeter "), { words: ["call", "greeter"], current: "" });
  assert.equal(completionWords(`call g G.H {"na`), undefined);
  assert.equal(completionWords(`publish t 'x`), undefined);
});
