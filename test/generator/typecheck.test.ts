/**
 * The generated code compiles (`tsc --strict`) against the real message library's output for the same protos
 * and the runtime's public types (`micro-ts` resolves to this repository's dist).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { join } from "node:path";
import { GOLDEN, makeProject, protoc, readTree, tempDir, tsc, variants } from "./support.js";

describe("generated code type-checks with the real message libraries", () => {
  const tmp = tempDir("typecheck");
  after(() => tmp.remove());

  for (const variant of variants) {
    it(`${variant.name}: tsc --strict --noEmit passes`, async () => {
      const dir = join(tmp.dir, variant.name);
      const { mkdirSync } = await import("node:fs");
      mkdirSync(dir);
      makeProject(dir);
      const gen = await protoc(dir, variant.microOpt, undefined, { variant, out: dir });
      assert.equal(gen.code, 0, gen.stderr);
      const micro = [...readTree(dir).keys()].filter((f) => f.endsWith(".micro.ts"));
      assert.deepEqual(micro, [...readTree(join(GOLDEN, variant.name)).keys()]);
      const check = await tsc(dir);
      assert.equal(check.code, 0, `tsc failed:\n${check.stdout}${check.stderr}`);
    });
  }
});
