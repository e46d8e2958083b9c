/**
 * The root entry (`micro-ts`) exports values chosen on purpose (src/index.ts): this list changes only with
 * it. Every value the templates import from "micro-ts" must be among them — types come through
 * `export type *`, which would silently make a newly added value type-only at the root.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!statSync(join(dir, "package.json"), { throwIfNoEntry: false })) dir = dirname(dir);
  return dir;
}
const ROOT = repoRoot();

const EXPECTED = [
  // services
  // production: auth, metrics, health
  "authHandlerWrapper", "authClientWrapper", "metricsHandlerWrapper", "metricsClientWrapper", "metricsSubscriberWrapper",
  "newAuthorizer", "loadAuthRules", "matchRule", "serveMetrics", "loadMetrics", "instrumentBroker", "instrumentRegistry", "Health", "serveHealth",
  "newService", "exitOnStartFailure", "newClient", "RpcClient", "newServer", "RpcServer", "registerSubscriber", "healthMethod", "HEALTH_ENDPOINT",
  "MicroError", "fromError", "parseError", "statusText", "badRequest", "unauthorized", "forbidden", "notFound", "methodNotAllowed", "internalServerError", "UsageError",
  // messages
  "tsProtoCodec", "rawJsonCodec", "jsonCodec", "protobufCodec", "codecFor", "allowUnknownJsonFields", "JSON_CONTENT_TYPE", "PROTOBUF_CONTENT_TYPE", "endpointName", "apiRequestCodec", "apiResponseCodec",
  // wrappers and logging
  "logHandlerWrapper", "logClientWrapper", "logSubscriberWrapper", "rateLimitHandlerWrapper", "rateLimitClientWrapper", "circuitBreakerWrapper", "tracingClientWrapper", "tracingHandlerWrapper", "tracingPublishWrapper", "tracingSubscriberWrapper", "logger", "rootLogger", "setRootLogger", "setLogLevel",
  // zero-config plugins
  "memoryRegistry", "localRegistry", "defaultLocalRegistryPath", "LOCAL_REGISTRY_TTL", "memoryBroker", "directBroker", "tcpTransport", "cacheSelector",
  // plugin authors
  "globalFlags", "readConfig", "parseDuration", "resolvePlugins", "checkPluginNames", "defaultPlugins", "registryPlugins", "transportPlugins", "brokerPlugins", "selectorPlugins",
  "cachedRegistry", "isCachedRegistry", "DEFAULT_VANISH_GRACE", "DEFAULT_EJECTION_TIME", "DEFAULT_MAX_EJECTION_TIME", "DEFAULT_DROP_AFTER", "DEFAULT_STALL_TIME", "classify", "markFinal", "isUnreachable",
];

test("the root entry exports exactly the chosen values", async () => {
  const root = await import(join(ROOT, "dist", "index.js"));
  assert.deepEqual(Object.keys(root).sort(), [...EXPECTED].sort());
});

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

test("every value a template imports from micro-ts is exported by the root", () => {
  const wanted = new Set<string>();
  for (const file of files(join(ROOT, "templates"))) {
    for (const m of readFileSync(file, "utf8").matchAll(/import \{([^}]*)\} from "micro-ts"/g)) {
      for (const part of m[1]!.split(",")) {
        const name = part.trim();
        if (name && !name.startsWith("type ")) wanted.add(name);
      }
    }
  }
  assert.ok(wanted.size > 3, "templates import values from micro-ts");
  const missing = [...wanted].filter((n) => !EXPECTED.includes(n));
  assert.deepEqual(missing, []);
});
