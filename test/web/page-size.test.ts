/**
 * The dashboard's first page load — index.html, app.js and app.css as `npm run build` ships them in
 * dist/web/ui/dist — stays under 200 KB gzip-compressed (the server sends them gzipped at level 9), and
 * every file of it is there (nothing is fetched from elsewhere).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const DIR = fileURLToPath(new URL("../../../dist/web/ui/dist/", import.meta.url));

test("the first page load is under 200 KB compressed and loads nothing from elsewhere", () => {
  let raw = 0;
  let compressed = 0;
  for (const file of ["index.html", "app.js", "app.css"]) {
    const body = readFileSync(DIR + file);
    raw += body.length;
    compressed += gzipSync(body, { level: 9 }).length;
    assert.doesNotMatch(body.toString("utf8"), /\b(?:src|href)=["']?(?:https?:)?\/\//, `${file} names no other host`);
  }
  console.log(`first page load: ${raw} bytes, ${compressed} bytes gzipped (${(compressed / 1024).toFixed(1)} KiB)`);
  assert.ok(compressed < 200 * 1000, `${compressed} bytes compressed`);
});
