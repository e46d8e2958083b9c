/**
 * Auth, metrics and the rules file load their libraries only when used: a child process imports micro-ts
 * with a module hook that refuses to load jose, prom-client or yaml, makes a service and an auth wrapper, and
 * must not trip it; then asks for metrics, which must (so the hook is known to catch a load).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const INDEX = new URL("../../../../dist/index.js", import.meta.url).href;

const HOOK = `export async function load(url, context, next) {
  if (/node_modules\\/(jose|prom-client|yaml)\\//.test(url)) throw new Error("refused to load " + url);
  return next(url, context);
}`;

const SCRIPT = `
import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(HOOK)}));
const m = await import(${JSON.stringify(INDEX)});
const service = m.newService({ name: "lazy", argv: [], env: {} });
service.init();
service.server();
service.client();
service.health.addCheck("x", () => true);
m.authHandlerWrapper({ secret: "s" });
m.authClientWrapper({ token: "t" });
console.log("imported without jose, prom-client or yaml");
try {
  await m.loadMetrics();
  console.log("metrics loaded: the hook did not catch it");
} catch (e) {
  console.log("hook caught: " + e.message);
}
`;

test("importing micro-ts and making a service, auth wrappers and health checks loads neither jose, prom-client nor yaml", async () => {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ["--input-type=module", "-e", SCRIPT], { cwd: fileURLToPath(new URL("../../../../", import.meta.url)), timeout: 60_000, env: { ...process.env, MICRO_LOG_LEVEL: "silent" } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  const lines = out.trim().split("\n");
  assert.equal(lines[0], "imported without jose, prom-client or yaml");
  assert.match(lines[1] ?? "", /^hook caught: refused to load .*node_modules\/prom-client\//);
});
