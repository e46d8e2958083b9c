/**
 * `npm run golden`: regenerate test/golden/<variant>/ from fixtures/proto on purpose (after an intended change
 * of the generated code). Review the diff before committing it.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { GOLDEN, listFiles, openapiGolden, protoc, tempDir, variants } from "./support.js";

for (const variant of variants) {
  const out = join(GOLDEN, variant.name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await protoc(out, variant.microOpt);
  if (result.code !== 0) {
    process.stderr.write(`protoc failed for ${variant.name}:\n${result.stderr}`);
    process.exit(1);
  }
  process.stdout.write(`${variant.name}: ${listFiles(out).length} files in ${out}\n`);
}

{
  const out = join(GOLDEN, openapiGolden.name);
  rmSync(out, { recursive: true, force: true });
  const tmp = tempDir("golden-openapi");
  const result = await protoc(tmp.dir, openapiGolden.microOpt);
  if (result.code !== 0) {
    process.stderr.write(`protoc failed for ${openapiGolden.name}:\n${result.stderr}`);
    process.exit(1);
  }
  const files = listFiles(tmp.dir, openapiGolden.suffix);
  for (const f of files) {
    mkdirSync(dirname(join(out, f)), { recursive: true });
    copyFileSync(join(tmp.dir, f), join(out, f));
  }
  tmp.remove();
  process.stdout.write(`${openapiGolden.name}: ${files.length} files in ${out}\n`);
}
