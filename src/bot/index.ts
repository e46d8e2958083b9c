/**
 * `micro bot`: ChatOps. The bot reads messages from its inputs (Slack, HTTP), runs the built-in commands (the
 * CLI's features) and commands that services add (`micro.bot.<name>` implementing `micro.bot.v1.Command`).
 *
 * The `micro-ts/bot` entry: a command service imports `registerCommandHandler` and the message types from
 * here; the bot itself is started by `micro bot` (or `newBot` in code).
 */
export { newBot, Bot } from "./bot.js";
export { DEFAULT_BOT_NAMESPACE, type BotOptions } from "./options.js";
export type { Input, InboundMessage } from "./input.js";
export type { BotCommand, CommandContext } from "./commands/command.js";
export { slackInput, type SlackInputOptions } from "./inputs/slack.js";
export { httpInput, type HttpInputOptions, type HttpInput } from "./inputs/http.js";
export {
  Command,
  newCommandClient,
  registerCommandHandler,
  type CommandClient,
  type CommandHandler,
} from "./command/gen/micro/bot/v1/command.micro.js";
export { HelpRequest, HelpResponse, ExecRequest, ExecResponse } from "./command/gen/micro/bot/v1/command.js";
