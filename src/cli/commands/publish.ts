/**
 * `micro publish <topic> <message>`: publish a JSON message through the broker.
 */
import type { CommandModule } from "yargs";
import type { PublishArguments } from "./lib/publish.js";

export const publishCommand: CommandModule<object, PublishArguments> = {
  command: "publish <topic> <message>",
  describe: "Publish a JSON message to a topic through the broker",
  builder: (y) =>
    y
      .positional("topic", { type: "string", demandOption: true, describe: "Topic, e.g. events" })
      .positional("message", { type: "string", demandOption: true, describe: "The message as JSON; - reads it from stdin" })
      .option("metadata", { type: "string", array: true, describe: "Metadata key=value (repeatable)" })
      .option("token", { type: "string", describe: "Bearer token sent as authorization metadata (default: MICRO_AUTH_TOKEN)" })
      .example(`$0 publish events '{"id":1}'`, "publish to the topic events") as never,
  handler: async (args) => {
    const { publish } = await import("./lib/publish.js");
    await publish(args);
  },
};
