/**
 * The history file: newest first for readline, bounded, written whole through a rename, private (0600), and
 * absent at first.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultHistoryPath, HistoryFile } from "../../../src/cli/interactive/history.js";

test("load, save and the bound", () => {
  const dir = mkdtempSync(join(tmpdir(), "micro-history-"));
  try {
    const file = new HistoryFile(join(dir, ".micro_history"), 3);
    assert.deepEqual(file.load(), []);
    file.save(["d", "c", "b", "a"]); // newest first
    assert.equal(readFileSync(file.path, "utf8"), "b\nc\nd\n");
    assert.equal(statSync(file.path).mode & 0o777, 0o600);
    assert.deepEqual(file.load(), ["d", "c", "b"]);
    // A file grown by hand (or by a bigger bound) is read to the bound, blank lines skipped.
    writeFileSync(file.path, "1\n\n2\n3\n4\n5\n");
    assert.deepEqual(file.load(), ["5", "4", "3"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the default path is ~/.micro_history under HOME", () => {
  const home = process.env.HOME;
  process.env.HOME = "/tmp/somewhere-else";
  try {
    assert.equal(defaultHistoryPath(), "/tmp/somewhere-else/.micro_history");
  } finally {
    process.env.HOME = home;
  }
});
