/**
 * The plugin's runtime dependencies, loaded through `require` (their CommonJS builds).
 *
 * Why: a plugin's run is mostly Node start-up and module loading. @bufbuild/protobuf and protoplugin are
 * about a hundred small modules; Node's CommonJS loader reads them measurably faster than its ESM loader
 * (no URL resolution or async linking per module), which `npm run bench:generate` shows. Everything the plugin
 * needs at run time comes from here so that only one copy (the CommonJS one) is ever loaded. Types still
 * come from the packages' public typings.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

export const protobuf = require("@bufbuild/protobuf") as typeof import("@bufbuild/protobuf");
export const wkt = require("@bufbuild/protobuf/wkt") as typeof import("@bufbuild/protobuf/wkt");
export const wire = require("@bufbuild/protobuf/wire") as typeof import("@bufbuild/protobuf/wire");

/** Require a module of protoplugin's CommonJS build by file (see ./protoplugin.ts for why not its entry). */
export function requireProtoplugin<T>(file: string): T {
  const entry = require.resolve("@bufbuild/protoplugin");
  return require(join(dirname(entry), file)) as T;
}
