/**
 * Build step (`npm run build` runs it after tsc): bundles the plugin's run-time dependencies — the parts of
 * @bufbuild/protobuf and @bufbuild/protoplugin that ./deps.ts names — into one file beside this one,
 * `deps.bundle.cjs`, with esbuild.
 *
 * Why: a plugin run is mostly Node start-up and module loading. From their ESM builds, esbuild keeps only what is
 * used (the well-known types the plugin never touches are dropped), and one file spares Node the resolution,
 * reading and wrapping of about a hundred modules. Without the bundle (esbuild missing, or
 * PROTOC_GEN_MICRO_NO_BUNDLE=1) the plugin loads the same code module by module.
 */
import { renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLE_FILE, BUNDLE_EXPORTS } from "./deps-manifest.js";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

async function main(): Promise<void> {
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch {
    process.stderr.write("protoc-gen-micro: esbuild is not installed; the plugin will load its dependencies module by module\n");
    return;
  }
  const esm = join(dirname(require.resolve("@bufbuild/protoplugin")), "..", "esm");
  const contents = Object.entries(BUNDLE_EXPORTS)
    .map(([from, names]) => {
      const spec = from.startsWith("protoplugin:") ? join(esm, from.substring("protoplugin:".length)) : from;
      return `export { ${names.join(", ")} } from ${JSON.stringify(spec)};`;
    })
    .join("\n");
  const out = join(here, BUNDLE_FILE);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await esbuild.build({
      stdin: { contents, resolveDir: here, sourcefile: "deps-entry.js", loader: "js" },
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      outfile: tmp,
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: "eof",
      // The bundled code keeps its licence: say whose it is at the top of the file.
      banner: {
        js:
          "/*! Parts of @bufbuild/protobuf and @bufbuild/protoplugin, bundled by protoc-gen-micro's build. " +
          "Copyright 2021-2026 Buf Technologies, Inc. Licensed under the Apache License, Version 2.0 " +
          "(http://www.apache.org/licenses/LICENSE-2.0). */",
      },
      logLevel: "error",
    });
    // Several builds may run at once in one tree: write aside, then rename into place.
    renameSync(tmp, out);
  } catch (err) {
    // The plugin works without the bundle (only slower to start); a stale bundle would not match the sources.
    rmSync(out, { force: true });
    process.stderr.write(`protoc-gen-micro: bundling dependencies failed, the plugin will load them module by module: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

await main();
