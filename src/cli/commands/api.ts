/**
 * `micro api`: run the HTTP API gateway in front of the services in the registry.
 */
import type { CommandModule } from "yargs";
import type { ApiArguments } from "./lib/gateway.js";
import { authFlagOptions } from "./lib/auth-flags.js";

export const apiCommand: CommandModule<object, ApiArguments> = {
  command: "api",
  describe: "Run the HTTP API gateway (JSON to RPC, WebSocket and SSE streams, http rules)",
  builder: (y) =>
    authFlagOptions(y)
      .option("address", { type: "string", default: ":8080", describe: "Listen address host:port, or a range host:8080-8090 (first free port)" })
      .option("namespace", { type: "string", default: "", describe: "Prefix of service names: /greeter/hello calls <namespace>.greeter" })
      .option("handler", { choices: ["rpc", "api", "http", "event"] as const, default: "rpc" as const, describe: "How requests are handled" })
      .option("cors", { type: "string", describe: "Allow cross-origin requests: * or a comma-separated list of origins" })
      .option("timeout", { type: "string", describe: "Backend call timeout, e.g. 10s (default 10s)" })
      .option("max_body", { type: "number", default: 1024 * 1024, describe: "Largest request body in bytes" })
      .option("tracing", { type: "boolean", default: false, describe: "OpenTelemetry spans per request and backend call (install the SDK with node --import)" })
      .example("$0 api", "listen on :8080; curl localhost:8080/greeter/hello -d '{\"name\":\"John\"}'")
      .example("$0 api --handler http --namespace com.example.web", "proxy to HTTP services") as never,
  handler: async (args) => {
    const { runGateway } = await import("./lib/gateway.js");
    await runGateway(args);
  },
};
