/** The shipped Command service code is exactly what the generator makes from the shipped proto. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readTree, tempDir } from "../generator/support.js";
import { COMMAND_GEN, generateCommandCode } from "./command-code.js";

test("src/bot/command/gen is current (else: npm run generate:bot)", async () => {
  const { dir, remove } = tempDir("micro-bot-gen-");
  try {
    const result = await generateCommandCode(dir);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readTree(dir), readTree(COMMAND_GEN), "the committed code differs from a fresh generation: run `npm run generate:bot`");
  } finally {
    remove();
  }
});
