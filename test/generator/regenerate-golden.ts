/**
 * `npm run golden`: regenerate test/golden/<variant>/ from fixtures/proto on purpose (after an intended change
 * of the generated code). Review the diff before committing it.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { GOLDEN, listFiles, protoc, variants } from "./support.js";

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
