/**
 * The dashboard's page: the files `npm run build` bundles into dist/web/ui (bundle.ts), read once, served
 * gzip-compressed when the browser accepts it, with a strict Content-Security-Policy (own scripts and
 * styles only: nothing inline runs, nothing loads from elsewhere).
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { MicroError } from "../runtime/errors/index.js";

/** The files of the page, by URL path. */
export const ASSET_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/assets/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/assets/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/** Headers of every dashboard page and API answer. */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/** One file of the page: its content type, its bytes and their gzip. */
export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

/** Where the bundled page lives: dist/web/ui beside this module. */
export const UI_DIR = fileURLToPath(new URL("./ui/dist/", import.meta.url));

/**
 * Read and compress the page's files.
 * @throws MicroError 500 when they were not built (`npm run build` bundles them)
 */
export function loadAssets(dir = UI_DIR): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [path, { file, type }] of Object.entries(ASSET_FILES)) {
    let body: Buffer;
    try {
      body = readFileSync(`${dir}${file}`);
    } catch (error) {
      throw new MicroError("micro.web", 500, `the dashboard's page is missing (${(error as Error).message}): run npm run build`);
    }
    out.set(path, { type, body, gzip: gzipSync(body, { level: 9 }) });
  }
  return out;
}
