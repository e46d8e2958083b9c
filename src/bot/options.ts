/** Options of {@link newBot} and their defaults. */
import type { Client } from "../runtime/client/index.js";
import type { Registry } from "../runtime/registry/index.js";
import type { Input } from "./input.js";

/** Services under this namespace are commands: `micro.bot.deploy` is `deploy` (Go Micro's `go.micro.bot`). */
export const DEFAULT_BOT_NAMESPACE = "micro.bot";

export interface BotOptions {
  /** Where messages come from (at least one). */
  readonly inputs: readonly Input[];
  readonly registry: Registry;
  readonly client: Client;
  /** Namespace of command services (default `micro.bot`). */
  readonly namespace?: string;
  /**
   * Users allowed to run acting commands (`call`, `publish`, service commands). Default: none, so acting
   * commands are refused until users are named; `*` allows everyone.
   */
  readonly allowUsers?: readonly string[];
  /** Channels the bot answers in at all (default: every channel it is in, and direct messages). */
  readonly allowChannels?: readonly string[];
  /** Timeout of each call a command makes, in ms (default 10000). */
  readonly timeout?: number;
  /** Longest reply in characters; longer output is cut with a note (default 3500). */
  readonly maxReplyLength?: number;
}
