/**
 * A local stand-in for the parts of Slack the bot uses, on loopback (Slack itself cannot be reached from the
 * test machines): the Web API methods `auth.test`, `apps.connections.open` and `chat.postMessage` under
 * `<url>/api/`, and the Socket Mode WebSocket with its `hello` greeting, `events_api` envelopes and the
 * client's acknowledgements. Tokens are checked as Slack checks them (app token to open a connection, bot
 * token for the rest).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";

export interface Post {
  channel: string;
  text: string;
  thread_ts?: string;
}

export const APP_TOKEN = "xapp-1-test";
export const BOT_TOKEN = "xoxb-test";
export const BOT_USER = "UBOT";

async function body(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if ((req.headers["content-type"] ?? "").includes("application/json")) return JSON.parse(text || "{}") as Record<string, string>;
  return Object.fromEntries(new URLSearchParams(text));
}

export class SlackStandIn {
  readonly posts: Post[] = [];
  /** Envelope ids the client acknowledged. */
  readonly acks = new Set<string>();
  /** How many Socket Mode connections were opened (grows on each reconnect). */
  connections = 0;
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  private readonly waiters: (() => void)[] = [];
  private port = 0;

  constructor() {
    this.server = createServer((req, res) => void this.api(req, res));
    this.server.on("upgrade", (req, socket, head) => {
      if (!req.url?.startsWith("/link")) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
    });
  }

  /** Base URL of the Web API, as `slackApiUrl` takes it. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private changed(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `predicate` holds, checked after every change; rejects after `ms`. */
  async until<T>(what: string, predicate: () => T | undefined | false, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`Slack stand-in: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async api(req: IncomingMessage, res: import("node:http").ServerResponse): Promise<void> {
    const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0];
    const params = await body(req);
    const token = (req.headers.authorization ?? "").replace(/^Bearer /, "") || params.token || "";
    const reply = (value: Record<string, unknown>): void => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (method === "apps.connections.open") {
      if (token !== APP_TOKEN) return reply({ ok: false, error: "invalid_auth" });
      return reply({ ok: true, url: `ws://127.0.0.1:${this.port}/link?ticket=${randomUUID()}` });
    }
    if (token !== BOT_TOKEN) return reply({ ok: false, error: "invalid_auth" });
    if (method === "auth.test") return reply({ ok: true, user_id: BOT_USER, bot_id: "B1", team_id: "T1", user: "micro" });
    if (method === "chat.postMessage") {
      this.posts.push({ channel: params.channel ?? "", text: params.text ?? "", ...(params.thread_ts ? { thread_ts: params.thread_ts } : {}) });
      this.changed();
      return reply({ ok: true, channel: params.channel, ts: `${Date.now() / 1000}` });
    }
    reply({ ok: false, error: "unknown_method" });
  }

  private connected(ws: WebSocket): void {
    this.connections++;
    this.sockets.add(ws);
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string };
      if (msg.envelope_id) this.acks.add(msg.envelope_id);
      this.changed();
    });
    ws.on("close", () => {
      this.sockets.delete(ws);
      this.changed();
    });
    ws.send(JSON.stringify({ type: "hello", num_connections: 1, debug_info: { host: "standin" }, connection_info: { app_id: "A1" } }));
    this.changed();
  }

  /** Open Socket Mode connections now. */
  get open(): number {
    return this.sockets.size;
  }

  /** Drop every Socket Mode connection without a goodbye (as a network failure would). */
  dropSockets(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  private send(event: Record<string, unknown>): string {
    const envelope = randomUUID();
    const payload = { type: "events_api", envelope_id: envelope, accepts_response_payload: false, payload: { type: "event_callback", team_id: "T1", event } };
    const [ws] = this.sockets;
    if (!ws) throw new Error("Slack stand-in: no Socket Mode connection is open");
    ws.send(JSON.stringify(payload));
    return envelope;
  }

  /** A message in `channel` that mentions the bot; returns the envelope id. */
  mention(user: string, channel: string, text: string): string {
    return this.send({ type: "app_mention", user, channel, text: `<@${BOT_USER}> ${text}`, ts: `${Date.now() / 1000}` });
  }

  /** A direct message to the bot. */
  direct(user: string, channel: string, text: string, extra: Record<string, unknown> = {}): string {
    return this.send({ type: "message", channel_type: "im", user, channel, text, ts: `${Date.now() / 1000}`, ...extra });
  }

  /** The first reply posted to `channel`. */
  replyIn(channel: string, ms?: number): Promise<Post> {
    return this.until(`a reply in ${channel}`, () => this.posts.find((p) => p.channel === channel), ms);
  }
}
