/**
 * `micro call <service> <endpoint> [request]`: call an endpoint with a JSON request and print the reply.
 */
import type { CommandModule } from "yargs";
import type { CallArguments } from "./lib/call.js";

export const callCommand: CommandModule<object, CallArguments> = {
  command: "call <service> <endpoint> [request]",
  describe: "Call a service endpoint with a JSON request and print the reply",
  builder: (y) =>
    y
      .positional("service", { type: "string", demandOption: true, describe: "Service name in the registry, e.g. greeter" })
      .positional("endpoint", { type: "string", demandOption: true, describe: "Endpoint, e.g. Greeter.Hello" })
      .positional("request", { type: "string", describe: "The request as JSON; - reads it from stdin (default {})" })
      .option("metadata", { type: "string", array: true, describe: "Metadata key=value (repeatable)" })
      .option("token", { type: "string", describe: "Bearer token sent as authorization metadata (default: MICRO_AUTH_TOKEN)" })
      .option("timeout", { type: "string", describe: "Request timeout, e.g. 5s or 500ms (default: --client_request_timeout)" })
      .option("address", { type: "string", describe: "Call this host:port directly instead of looking the service up" })
      .option("output", { choices: ["json", "text"] as const, default: "json" as const, describe: "Print the reply as JSON or as key: value lines" })
      .example(`$0 call greeter Greeter.Hello '{"name":"John"}'`, "call Greeter.Hello on the greeter service")
      .example(`echo '{"name":"John"}' | $0 call greeter Greeter.Hello - --metadata user=ann`, "the request from stdin, with metadata") as never,
  handler: async (args) => {
    const { call } = await import("./lib/call.js");
    await call(args);
  },
};
