/**
 * The bot: reads every input's messages, finds the command (built in, or a service under the namespace),
 * checks who may run it, runs it and replies. Every acting command is logged with who, where, what and the
 * result. One failing message never stops the bot.
 */
import { fromError, MicroError } from "../runtime/errors/index.js";
import { logger } from "../runtime/logger/index.js";
import { positiveMs, positiveNumber } from "../runtime/internal/option-values.js";
import { builtinCommands, errorText } from "./commands/builtin.js";
import { CommandUsageError, type BotCommand, type CommandContext } from "./commands/command.js";
import { ServiceCommands } from "./commands/services.js";
import { DEFAULT_MAX_REPLY, truncate } from "./format.js";
import type { InboundMessage, Input } from "./input.js";
import { DEFAULT_BOT_NAMESPACE, type BotOptions } from "./options.js";
import { parseMessage } from "./parse.js";
import { newPolicy, type Policy } from "./policy.js";

const log = logger("bot");
const BOT_ERROR_ID = "micro.bot";

export class Bot {
  private readonly services: ServiceCommands;
  private readonly policy: Policy;
  private readonly timeout: number;
  private readonly maxReply: number;
  private readonly loops: Promise<void>[] = [];
  private started = false;

  constructor(private readonly options: BotOptions) {
    if (options.inputs.length === 0) throw MicroError.badRequest(BOT_ERROR_ID, "the bot needs at least one input (--inputs slack,http)");
    this.timeout = positiveMs(options.timeout, 10_000, BOT_ERROR_ID, "bot", "timeout");
    this.maxReply = positiveNumber(options.maxReplyLength, DEFAULT_MAX_REPLY, BOT_ERROR_ID, "bot", "maxReplyLength", { unit: "characters" });
    this.services = new ServiceCommands(options.registry, options.client, options.namespace ?? DEFAULT_BOT_NAMESPACE, this.timeout);
    this.policy = newPolicy(options.allowUsers, options.allowChannels);
  }

  /** Follow the registry, connect every input and start answering. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.services.start();
    for (const input of this.options.inputs) {
      await input.connect();
      this.loops.push(this.serve(input));
      log.info({ input: input.name }, "bot: input connected");
    }
  }

  /** Disconnect the inputs and stop following the registry. */
  async stop(): Promise<void> {
    await Promise.all(this.options.inputs.map((i) => i.close()));
    await Promise.all(this.loops);
    await this.services.stop();
  }

  private async serve(input: Input): Promise<void> {
    for await (const message of input.messages()) {
      // Each message on its own: a slow call does not hold up the next message.
      void this.answer(input, message);
    }
  }

  private async answer(input: Input, message: InboundMessage): Promise<void> {
    try {
      const text = await this.handle(message);
      if (text !== undefined) await input.reply(message, truncate(text, this.maxReply));
      else input.ignore?.(message, `the bot does not answer in channel ${message.channel} (--allow_channels)`);
    } catch (error) {
      log.error({ input: input.name, user: message.user, channel: message.channel, err: fromError(error).detail }, "bot: could not reply");
    }
  }

  /** Every command the bot has now: built-ins first, then service commands. */
  async commands(): Promise<readonly BotCommand[]> {
    const services = await this.services.commands();
    const builtin = new Set(builtinCommands.map((c) => c.name));
    return [...builtinCommands, ...services.filter((c) => !builtin.has(c.name))];
  }

  /** The reply to one message; undefined when the bot stays silent (a channel it does not answer in). */
  async handle(message: InboundMessage): Promise<string | undefined> {
    if (!this.policy.answersIn(message.channel)) return undefined;
    const parsed = parseMessage(message.text);
    const name = parsed.words[0]?.toLowerCase();
    if (name === undefined) return "Say `help` to see what I can do.";
    const command = builtinCommands.find((c) => c.name === name) ?? (await this.services.find(name));
    if (command === undefined) return `I don't know \`${name}\`. Say \`help\` to see the commands.`;
    const refusal = this.policy.refusal(command, message);
    if (refusal !== undefined) {
      if (command.acting) this.audit(message, command, "refused", refusal);
      return refusal;
    }
    const context: CommandContext = {
      registry: this.options.registry,
      client: this.options.client,
      user: message.user,
      channel: message.channel,
      timeout: this.timeout,
      commands: () => this.commands(),
    };
    try {
      const reply = await command.run(parsed, context);
      if (command.acting) this.audit(message, command, reply.startsWith(":x:") ? "error" : "ok", reply);
      return reply;
    } catch (error) {
      if (error instanceof CommandUsageError) return error.message;
      if (command.acting) this.audit(message, command, "error", fromError(error).detail);
      return errorText(error);
    }
  }

  private audit(message: InboundMessage, command: BotCommand, result: string, detail: string): void {
    log.info({ audit: true, user: message.user, channel: message.channel, command: command.name, source: command.source, text: message.text, result, detail: detail.slice(0, 500) }, "bot: acting command");
  }
}

/** A bot over `options.inputs`; `start()` connects them. */
export function newBot(options: BotOptions): Bot {
  return new Bot(options);
}
