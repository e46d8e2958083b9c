/**
 * The Slack input (`--inputs slack`): Socket Mode, so no public URL is needed. Slack's own packages do the
 * protocol: `@slack/socket-mode` holds the WebSocket (acknowledging each envelope, reconnecting when Slack
 * recycles the connection or it drops), `@slack/web-api` posts the replies. Both load only when this input
 * connects.
 *
 * The bot answers messages that mention it (`app_mention`) and direct messages (`message` in an `im`);
 * replies go to the same channel, in the thread when the message was in one.
 *
 * Slack app set-up: README, "ChatOps: micro bot" (Socket Mode on, an app-level token with
 * `connections:write`, a bot token with `app_mentions:read`, `chat:write`, `im:history`, events
 * `app_mention` and `message.im`).
 */
import { MicroError } from "../../runtime/errors/index.js";
import { logger } from "../../runtime/logger/index.js";
import type { InboundMessage, Input } from "../input.js";
import { normalizeSlackText } from "../parse.js";
import { MessageFeed } from "./queue.js";

const ID = "micro.bot.slack";
const log = logger("bot.slack");

/** Options of {@link slackInput}. */
export interface SlackInputOptions {
  /** App-level token (`xapp-…`, scope `connections:write`), for Socket Mode. Env `MICRO_BOT_SLACK_APP_TOKEN`. */
  readonly appToken: string;
  /** Bot token (`xoxb-…`), for posting replies. Env `MICRO_BOT_SLACK_BOT_TOKEN`. */
  readonly botToken: string;
  /** Base URL of Slack's Web API (default `https://slack.com/api/`); a stand-in's address in tests. */
  readonly apiUrl?: string;
}

interface SlackMessageEvent {
  type?: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  text?: string;
  channel?: string;
  ts?: string;
  thread_ts?: string;
}

interface SlackInbound extends InboundMessage {
  readonly thread?: string;
}

/** Remove the bot's own mention (`<@U123>` or `<@U123|name>`) from the start of the text. */
export function stripMention(text: string, botUserId: string | undefined): string {
  const mention = /^\s*<@([A-Z0-9]+)(\|[^>]*)?>[\s:,]*/;
  const m = mention.exec(text);
  if (m && (botUserId === undefined || m[1] === botUserId)) return text.slice(m[0].length);
  return text;
}

export function slackInput(options: SlackInputOptions): Input {
  if (!options.appToken) throw MicroError.badRequest(ID, "the Slack input needs an app-level token: --slack_app_token or MICRO_BOT_SLACK_APP_TOKEN (xapp-…)");
  if (!options.botToken) throw MicroError.badRequest(ID, "the Slack input needs a bot token: --slack_bot_token or MICRO_BOT_SLACK_BOT_TOKEN (xoxb-…)");
  const feed = new MessageFeed();
  let socket: import("@slack/socket-mode").SocketModeClient | undefined;
  let web: import("@slack/web-api").WebClient | undefined;
  let botUserId: string | undefined;
  const clientOptions = options.apiUrl ? { slackApiUrl: options.apiUrl } : {};

  const receive = (event: SlackMessageEvent, direct: boolean): void => {
    if (event.bot_id || event.subtype || !event.user || !event.channel || event.user === botUserId) return;
    if (direct && event.channel_type !== "im") return; // channel messages count only when they mention the bot
    const message: SlackInbound = {
      user: event.user,
      channel: event.channel,
      text: normalizeSlackText(stripMention(event.text ?? "", botUserId)),
      ...(event.thread_ts ? { thread: event.thread_ts } : {}),
    };
    feed.push(message);
  };

  return {
    name: "slack",
    async connect() {
      const [{ SocketModeClient, LogLevel }, { WebClient }] = await Promise.all([import("@slack/socket-mode"), import("@slack/web-api")]);
      web = new WebClient(options.botToken, { ...clientOptions, retryConfig: { retries: 2 } });
      try {
        botUserId = (await web.auth.test()).user_id;
      } catch (error) {
        throw new MicroError(ID, 401, `Slack refused the bot token (auth.test): ${(error as Error).message}; check MICRO_BOT_SLACK_BOT_TOKEN`);
      }
      socket = new SocketModeClient({ appToken: options.appToken, clientOptions, logLevel: LogLevel.ERROR });
      socket.on("app_mention", async ({ ack, event }: { ack: () => Promise<void>; event: SlackMessageEvent }) => {
        await ack();
        receive(event, false);
      });
      socket.on("message", async ({ ack, event }: { ack: () => Promise<void>; event: SlackMessageEvent }) => {
        await ack();
        receive(event, true);
      });
      socket.on("reconnecting", () => log.warn("bot: Slack connection lost, reconnecting"));
      try {
        await socket.start();
      } catch (error) {
        throw new MicroError(ID, 502, `cannot open the Slack Socket Mode connection: ${(error as Error).message}; check MICRO_BOT_SLACK_APP_TOKEN (an xapp- token with connections:write) and that Socket Mode is on`);
      }
    },
    messages: () => feed.messages(),
    async reply(message, text) {
      if (!web) throw new MicroError(ID, 503, "the Slack input is not connected");
      const thread = (message as SlackInbound).thread;
      await web.chat.postMessage({ channel: message.channel, text, mrkdwn: true, ...(thread ? { thread_ts: thread } : {}) });
    },
    async close() {
      feed.close();
      await socket?.disconnect();
    },
  };
}
