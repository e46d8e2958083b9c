/**
 * Golden files: protoc-gen-micro's output for every fixture proto, per variant, must equal test/golden/<variant>/
 * byte for byte (`npm run golden` regenerates on purpose). Files without services produce nothing.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { join } from "node:path";
import { GOLDEN, listFiles, openapiGolden, protoc, readTree, tempDir, variants } from "./support.js";
import { readFileSync } from "node:fs";

describe("golden files", () => {
  const tmp = tempDir("golden");
  after(() => tmp.remove());

  for (const variant of variants) {
    it(`${variant.name}: output equals test/golden/${variant.name}`, async () => {
      const out = join(tmp.dir, variant.name);
      const { mkdirSync } = await import("node:fs");
      mkdirSync(out);
      const result = await protoc(out, variant.microOpt);
      assert.equal(result.code, 0, result.stderr);
      const actual = readTree(out);
      const expected = readTree(join(GOLDEN, variant.name));
      assert.deepEqual([...actual.keys()], [...expected.keys()], "the set of generated files differs (run `npm run golden` if intended)");
      for (const [name, content] of expected) {
        assert.equal(actual.get(name), content, `${name} differs from the golden file (run \`npm run golden\` if intended)`);
      }
    });
  }

  it(`${openapiGolden.name}: the .openapi.json files equal test/golden/${openapiGolden.name}`, async () => {
    const out = join(tmp.dir, openapiGolden.name);
    const { mkdirSync } = await import("node:fs");
    mkdirSync(out);
    const result = await protoc(out, openapiGolden.microOpt);
    assert.equal(result.code, 0, result.stderr);
    const actual = listFiles(out, openapiGolden.suffix);
    const expectedDir = join(GOLDEN, openapiGolden.name);
    assert.deepEqual(actual, listFiles(expectedDir), "the set of OpenAPI files differs (run `npm run golden` if intended)");
    for (const f of actual) {
      assert.equal(readFileSync(join(out, f), "utf8"), readFileSync(join(expectedDir, f), "utf8"), `${f} differs from the golden file (run \`npm run golden\` if intended)`);
    }
  });

  it("writes nothing for files without services and one .micro.ts per file with services", () => {
    const files = [...readTree(join(GOLDEN, "ts-proto")).keys()];
    assert.ok(!files.some((f) => f.startsWith("common/") || f.startsWith("google/")), files.join(", "));
    assert.deepEqual(files, [
      "alltypes/v1/alltypes.micro.ts",
      "clash/globals.micro.ts",
      "clash/names.micro.ts",
      "clash/svc/services.micro.ts",
      "editions/edition2024.micro.ts",
      "editions/editions.micro.ts",
      "greeter/v1/greeter.micro.ts",
      "legacy/legacy.micro.ts",
      "nopackage.micro.ts",
      "shop/v1/shop.micro.ts",
    ]);
  });
});
