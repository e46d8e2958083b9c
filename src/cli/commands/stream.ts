/**
 * `micro stream <service> <endpoint> [request]`: call a streaming endpoint. Server streams print NDJSON;
 * client and bidi streams read NDJSON requests from stdin.
 */
import type { CommandModule } from "yargs";
import type { StreamArguments } from "./lib/call.js";

export const streamCommand: CommandModule<object, StreamArguments> = {
  command: "stream <service> <endpoint> [request]",
  describe: "Call a streaming endpoint: responses print as NDJSON; client/bidi streams read NDJSON from stdin",
  builder: (y) =>
    y
      .positional("service", { type: "string", demandOption: true, describe: "Service name in the registry" })
      .positional("endpoint", { type: "string", demandOption: true, describe: "Endpoint, e.g. Greeter.Stream" })
      .positional("request", { type: "string", describe: "Server streams: the request as JSON, - for stdin (default {})" })
      .option("kind", { choices: ["server", "client", "bidi"] as const, describe: "Stream kind (default: read from the registry)" })
      .option("metadata", { type: "string", array: true, describe: "Metadata key=value (repeatable)" })
      .option("token", { type: "string", describe: "Bearer token sent as authorization metadata (default: MICRO_AUTH_TOKEN)" })
      .option("timeout", { type: "string", describe: "Deadline of the whole stream, e.g. 30s (default: none)" })
      .option("address", { type: "string", describe: "Call this host:port directly; then --kind is needed unless the registry knows the endpoint" })
      .example(`$0 stream greeter Greeter.Stream '{"name":"John"}'`, "one JSON line per response")
      .example(`printf '{"name":"a"}\\n{"name":"b"}\\n' | $0 stream greeter Greeter.Chat`, "bidi: requests from stdin") as never,
  handler: async (args) => {
    const { stream } = await import("./lib/call.js");
    await stream(args);
  },
};
