/**
 * Who may do what: `--allow_channels` limits where the bot answers at all; acting commands (`call`,
 * `publish`, service commands) need a user named in `--allow_users` (`*` names everyone). Reading commands
 * (`list`, `get`, `health`, `help`, `echo`, `hello`) are open to everyone in an allowed channel.
 */
import type { BotCommand } from "./commands/command.js";
import type { InboundMessage } from "./input.js";

export interface Policy {
  /** Why `message` may not run `command`, or undefined when it may. */
  refusal(command: BotCommand, message: InboundMessage): string | undefined;
  /** Whether the bot answers in this channel at all. */
  answersIn(channel: string): boolean;
}

export function newPolicy(allowUsers: readonly string[] = [], allowChannels: readonly string[] = []): Policy {
  const users = new Set(allowUsers);
  const channels = new Set(allowChannels);
  return {
    answersIn: (channel) => channels.size === 0 || channels.has(channel),
    refusal(command, message) {
      if (!command.acting || users.has("*") || users.has(message.user)) return undefined;
      if (users.size === 0) return `\`${command.name}\` acts on the system, and no user is allowed to act: start the bot with --allow_users (user ids, or * for everyone).`;
      return `Sorry, <@${message.user}> is not allowed to run \`${command.name}\` (it acts on the system; allowed users are set with --allow_users).`;
    },
  };
}
