/**
 * Where the bot's messages come from and where its replies go. Slack (./inputs/slack.ts) and a plain HTTP
 * API (./inputs/http.ts) are the two built in; another chat system (Discord, Telegram, Matrix) is one more
 * implementation of this interface beside them.
 */

/** One message addressed to the bot. */
export interface InboundMessage {
  /** The input's own id of the sender (a Slack user id, or what an HTTP caller says). */
  readonly user: string;
  /** Where it was said (a Slack channel or DM id). */
  readonly channel: string;
  /** The text, with the bot's mention and the chat system's escaping removed. */
  readonly text: string;
}

export interface Input {
  /** The input's name as `--inputs` spells it: `slack`, `http`. */
  readonly name: string;
  /** Connect (or listen); resolves once messages can arrive. Rejects with a clear error when it cannot. */
  connect(): Promise<void>;
  /** Messages as they arrive, until {@link close}. One consumer. */
  messages(): AsyncIterable<InboundMessage>;
  /** Answer `message` where it was said. */
  reply(message: InboundMessage, text: string): Promise<void>;
  /**
   * The bot will not answer `message` (a channel outside `--allow_channels`). Inputs where every message
   * expects an answer (HTTP) answer with `reason`; chat inputs stay silent. Optional.
   */
  ignore?(message: InboundMessage, reason: string): void;
  /** Disconnect; the `messages()` loop ends. */
  close(): Promise<void>;
}
