/**
 * `micro bot`: ChatOps — the CLI's features from Slack (Socket Mode) or a plain HTTP API, plus commands that
 * services add under the bot namespace.
 */
import type { CommandModule } from "yargs";
import type { BotArguments } from "./lib/bot.js";

export const botCommand: CommandModule<object, BotArguments> = {
  command: "bot",
  describe: "Run the chat bot (Slack Socket Mode and/or HTTP): list, get, health, call, publish and service commands",
  builder: (y) =>
    y
      .option("inputs", { type: "string", default: "slack", describe: "Comma-separated inputs: slack, http" })
      .option("namespace", { type: "string", default: "micro.bot", describe: "Services <namespace>.<name> implementing micro.bot.v1.Command are the command <name>" })
      .option("allow_users", { type: "string", describe: "Comma-separated user ids allowed to run acting commands (call, publish, service commands); * for everyone (default: nobody)" })
      .option("allow_channels", { type: "string", describe: "Comma-separated channel ids the bot answers in (default: all)" })
      .option("http_address", { type: "string", default: "127.0.0.1:8083", describe: "Listen address of the http input" })
      .option("slack_app_token", { type: "string", describe: "Slack app-level token xapp-… (env MICRO_BOT_SLACK_APP_TOKEN)" })
      .option("slack_bot_token", { type: "string", describe: "Slack bot token xoxb-… (env MICRO_BOT_SLACK_BOT_TOKEN)" })
      .option("slack_api_url", { type: "string", describe: "Base URL of Slack's Web API (env MICRO_BOT_SLACK_API_URL; default https://slack.com/api/)" })
      .option("timeout", { type: "string", describe: "Timeout of each call a command makes, e.g. 10s (default 10s)" })
      .example("MICRO_BOT_SLACK_APP_TOKEN=xapp-… MICRO_BOT_SLACK_BOT_TOKEN=xoxb-… $0 bot --allow_users U012AB3CD", "answer in Slack")
      .example("$0 bot --inputs http --allow_users '*'", "curl localhost:8083/message -d '{\"user\":\"me\",\"text\":\"list services\"}'") as never,
  handler: async (args) => {
    const { runBot } = await import("./lib/bot.js");
    await runBot(args);
  },
};
