/**
 * Build step (`npm run build` runs it after tsc): bundles the dashboard's page (src/web/ui, Preact + htm)
 * with esbuild into dist/web/ui/dist — `app.js`, `app.css` and `index.html` — so the package ships
 * everything the page needs (no CDN, works offline). Deterministic: the same sources give the same bytes.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The page's sources in the repository (this script runs from dist/web). */
const sources = join(here, "..", "..", "src", "web", "ui");
const out = join(here, "ui", "dist");

async function main(): Promise<void> {
  const esbuild = await import("esbuild");
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: [join(sources, "main.ts")],
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2020",
    outfile: join(out, "app.js"),
    legalComments: "none",
    sourcemap: false,
    logLevel: "warning",
  });
  await esbuild.build({ entryPoints: [join(sources, "app.css")], bundle: true, minify: true, outfile: join(out, "app.css"), logLevel: "warning" });
  copyFileSync(join(sources, "index.html"), join(out, "index.html"));
}

await main();
