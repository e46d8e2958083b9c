/**
 * A bot command: built in (./builtin.ts) or a service under the bot namespace (./services.ts).
 */
import type { Client } from "../../runtime/client/index.js";
import type { Registry } from "../../runtime/registry/index.js";
import type { ParsedMessage } from "../parse.js";

/** What a command runs with. */
export interface CommandContext {
  readonly registry: Registry;
  readonly client: Client;
  /** Who asked and where. */
  readonly user: string;
  readonly channel: string;
  /** Timeout of each call the command makes, in milliseconds. */
  readonly timeout: number;
  /** The bot's other commands, for `help`. */
  readonly commands: () => Promise<readonly BotCommand[]>;
}

export interface BotCommand {
  /** The first word that runs it, e.g. `list`, `deploy`. */
  readonly name: string;
  /** How to call it, e.g. `call <service> <endpoint> <json>`. */
  readonly usage: string;
  readonly description: string;
  /**
   * Acting commands change something (`call`, `publish`, every service command) and need an allowed user;
   * the others only read (`list`, `get`, `health`, `help`, `echo`, `hello`).
   */
  readonly acting: boolean;
  /** `builtin`, or the service that implements it. */
  readonly source: string;
  /** Run with the parsed message (word 0 is the command's name); resolves to the reply text. */
  run(message: ParsedMessage, context: CommandContext): Promise<string>;
}

/** A command's wrong use: the reply names the usage. */
export class CommandUsageError extends Error {
  constructor(usage: string, detail?: string) {
    super(`${detail ? `${detail}. ` : ""}Usage: \`${usage}\``);
    this.name = "CommandUsageError";
  }
}
