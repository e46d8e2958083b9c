/**
 * Both invocation paths run for real: protoc with --plugin and buf generate with a local plugin; the output is
 * byte-identical, and repeated runs give the same bytes.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { after, describe, it } from "node:test";
import { dirname, join } from "node:path";
import { bufGenerate, protoc, readTree, run, PLUGIN, tempDir } from "./support.js";

describe("protoc and buf", () => {
  const tmp = tempDir("invoke");
  after(() => tmp.remove());

  for (const opt of ["import_extension=js", "messages=protobuf-es"]) {
    it(`give byte-identical files (${opt})`, async () => {
      const base = join(tmp.dir, opt.replace(/[^a-z]/g, "_"));
      const viaProtoc = join(base, "protoc");
      const viaProtocAgain = join(base, "protoc2");
      const viaBuf = join(base, "buf");
      for (const d of [viaProtoc, viaProtocAgain, viaBuf]) mkdirSync(d, { recursive: true });
      const [a, b, c] = await Promise.all([protoc(viaProtoc, opt), protoc(viaProtocAgain, opt), bufGenerate(viaBuf, opt)]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(c.code, 0, c.stderr);
      const first = readTree(viaProtoc);
      assert.ok(first.size > 0);
      assert.deepEqual(readTree(viaProtocAgain), first);
      assert.deepEqual(readTree(join(viaBuf, "out")), first);
    });
  }

  it("gives the same bytes with its bundled dependencies and without (PROTOC_GEN_MICRO_NO_BUNDLE=1)", async () => {
    assert.ok(existsSync(join(dirname(PLUGIN), "generator/deps.bundle.cjs")), "npm run build writes dist/generator/deps.bundle.cjs");
    const bundled = join(tmp.dir, "bundled");
    const plain = join(tmp.dir, "plain");
    mkdirSync(bundled);
    mkdirSync(plain);
    const [a, b] = await Promise.all([protoc(bundled, "messages=protobuf-es"), protoc(plain, "messages=protobuf-es", undefined, undefined, { PROTOC_GEN_MICRO_NO_BUNDLE: "1" })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(readTree(bundled).size > 0);
    assert.deepEqual(readTree(plain), readTree(bundled));
  });

  it("answers --version and refuses to run without protoc", async () => {
    const version = await run(process.execPath, [PLUGIN, "--version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^protoc-gen-micro \d+\.\d+\.\d+\n$/);
    const usage = await run(process.execPath, [PLUGIN, "extra-argument"]);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /CodeGeneratorRequest on stdin/);
  });
});
