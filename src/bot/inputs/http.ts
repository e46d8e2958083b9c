/**
 * The HTTP input (`--inputs http`): `POST /message {user, channel, text}` answers `{text}`, for scripts and
 * other chat systems' webhooks. Bad requests get the gateway's error shape `{id, code, detail, status}`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { MicroError } from "../../runtime/errors/index.js";
import { formatAddress, parseAddress } from "../../runtime/transport/address.js";
import type { InboundMessage, Input } from "../input.js";
import { MessageFeed } from "./queue.js";

const ID = "micro.bot.http";
/** Largest request body accepted, in bytes. */
const MAX_BODY = 64 * 1024;

/** Options of {@link httpInput}. */
export interface HttpInputOptions {
  /** Listen address, `host:port` (default `127.0.0.1:8083`; port 0 picks a free one). */
  readonly address?: string;
}

export interface HttpInput extends Input {
  /** The bound `host:port`, once connected. */
  readonly address: string;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function fail(res: ServerResponse, error: MicroError): void {
  send(res, error.code, error.toJSON());
}

/**
 * The body as text. One over {@link MAX_BODY} is read to its end and dropped (so the client gets the 413
 * rather than a reset), unless it goes on past 16 times the limit: then the connection is cut.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
      else if (size > 16 * MAX_BODY) req.destroy();
    });
    req.on("end", () => {
      if (size > MAX_BODY) reject(new MicroError(ID, 413, `the request body is ${size} bytes; at most ${MAX_BODY} are accepted`));
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

/** Check `{user, channel, text}`: every field a non-empty string (`channel` may be empty). */
function parseMessageBody(text: string): InboundMessage {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw MicroError.badRequest(ID, `the body is not valid JSON (${(e as Error).message}); send {"user": "...", "channel": "...", "text": "..."}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw MicroError.badRequest(ID, 'the body must be a JSON object {"user", "channel", "text"}');
  const { user, channel = "", text: message } = body as Record<string, unknown>;
  if (typeof user !== "string" || user === "") throw MicroError.badRequest(ID, "user must be a non-empty string (who is asking)");
  if (typeof channel !== "string") throw MicroError.badRequest(ID, "channel must be a string");
  if (typeof message !== "string") throw MicroError.badRequest(ID, "text must be a string (the command, e.g. \"list services\")");
  return { user, channel, text: message.trim() };
}

export function httpInput(options: HttpInputOptions = {}): HttpInput {
  const feed = new MessageFeed();
  const pending = new Map<InboundMessage, ServerResponse>();
  let server: Server | undefined;
  let bound = "";

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/message") return fail(res, MicroError.notFound(ID, `no route ${path}: POST /message {"user", "channel", "text"}`));
    if (req.method !== "POST") return fail(res, MicroError.methodNotAllowed(ID, `${req.method} /message: use POST`));
    let message: InboundMessage;
    try {
      message = parseMessageBody(await readBody(req));
    } catch (error) {
      return fail(res, error instanceof MicroError ? error : MicroError.badRequest(ID, (error as Error).message));
    }
    pending.set(message, res);
    res.on("close", () => pending.delete(message));
    feed.push(message);
  };

  return {
    name: "http",
    get address() {
      return bound;
    },
    async connect() {
      const { host, port } = parseAddress(options.address ?? "127.0.0.1:8083");
      server = createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve, reject) => {
        server!.once("error", (e: NodeJS.ErrnoException) => reject(new MicroError(ID, 500, `http input cannot listen on ${options.address ?? "127.0.0.1:8083"}: ${e.message}`)));
        server!.listen(port, host, () => resolve());
      });
      const a = server.address();
      bound = typeof a === "object" && a ? formatAddress(a.address, a.port) : String(a);
    },
    messages: () => feed.messages(),
    async reply(message, text) {
      const res = pending.get(message);
      if (!res) return; // the caller went away before the answer
      pending.delete(message);
      send(res, 200, { text });
    },
    ignore(message, reason) {
      const res = pending.get(message);
      if (!res) return;
      pending.delete(message);
      fail(res, MicroError.forbidden(ID, reason));
    },
    async close() {
      feed.close();
      for (const res of pending.values()) fail(res, new MicroError(ID, 503, "the bot is stopping"));
      pending.clear();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    },
  };
}
