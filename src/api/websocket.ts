/**
 * Streams over WebSocket on the same paths as the rpc handler. Every text frame is one JSON message.
 *
 * - unary: each frame is a request, each reply a frame; an empty frame ends the requests, and the socket
 *   closes (1000, "requests ended") once every reply is sent.
 * - server streaming: the first frame is the request (an empty frame is the empty request `{}`); every
 *   response is a frame; the socket closes (1000).
 * - client / bidi streaming: frames are requests; an empty frame ends the requests (half-close);
 *   responses are frames; the socket closes (1000) when the call ends.
 *
 * Every request frame is a JSON object (`request must be a JSON object, got …` otherwise, a 400).
 * An error is sent as `{"error": {id, code, detail, status}}` and the socket closes with 4000 + the HTTP
 * status (e.g. 4404).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { Metadata } from "../runtime/metadata/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { logger } from "../runtime/logger/index.js";
import { callOptions } from "./call.js";
import type { GatewayContext } from "./context.js";
import { httpStatus, rejectUpgrade, toGatewayError } from "./errors.js";
import { ruleResponse } from "./http-rule.js";
import { headerMetadata, requireRequestObject, splitUrl } from "./request.js";
import { pathSegments, type Target } from "./resolve.js";
import { resolveTarget } from "./target.js";
import { jsonTarget } from "../runtime/target/index.js";

const log = logger("api");

/** A queue of request messages fed by socket frames, read by the call. */
class FrameQueue implements AsyncIterable<unknown> {
  private items: unknown[] = [];
  private waiter?: () => void;
  private ended = false;
  constructor(private readonly socket: WebSocket) {}
  push(v: unknown): void {
    this.items.push(v);
    if (this.items.length > 64) this.socket.pause(); // backpressure: stop reading the socket
    this.wake();
  }
  end(): void {
    this.ended = true;
    this.wake();
  }
  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    for (;;) {
      if (this.items.length > 0) {
        const v = this.items.shift();
        if (this.items.length <= 16) this.socket.resume();
        yield v;
      } else if (this.ended) {
        return;
      } else {
        await new Promise<void>((r) => (this.waiter = r));
      }
    }
  }
}

function parseFrame(data: RawData): unknown {
  const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8");
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw MicroError.badRequest("micro.api", `malformed JSON frame: ${(error as Error).message}`);
  }
  return requireRequestObject(value);
}

function fail(ws: WebSocket, error: unknown): void {
  const e = toGatewayError(error);
  if (ws.readyState === ws.OPEN) {
    ws.send(JSON.stringify({ error: e.toJSON() }));
    ws.close(4000 + httpStatus(e), e.status.slice(0, 100));
  }
}

function sendJson(ws: WebSocket, target: Pick<Target, "rule">, message: unknown): Promise<void> {
  const out = target.rule ? ruleResponse(target.rule, message) : message;
  return new Promise((resolve, reject) => ws.send(JSON.stringify(out ?? null), (err) => (err ? reject(err) : resolve())));
}

/** What serving a stream over a WebSocket needs: the client, and the timeout of unary calls. */
export type StreamContext = Pick<GatewayContext, "client" | "timeout">;

/**
 * Serve one call over an accepted WebSocket with the frame protocol of this module's comment (`micro web`'s
 * stream API uses it too). `target.rule`, when set, shapes each response as the http rule says.
 */
export function serveStream(ctx: StreamContext, ws: WebSocket, target: Pick<Target, "service" | "endpoint" | "kind" | "rule">, metadata: Metadata): void {
  const ac = new AbortController();
  ws.once("close", () => ac.abort(new Error("websocket closed")));
  const options = (): ReturnType<typeof callOptions> => callOptions(ctx, metadata, ac.signal, "application/json", target.kind !== "unary");
  const t = jsonTarget(target.service, target.endpoint, target.kind);

  if (target.kind === "unary") {
    // Each frame is one call; at most 64 in flight per socket (reading pauses until one finishes).
    let inflight = 0;
    let ended = false;
    const closeWhenDone = (): void => {
      if (ended && inflight === 0 && ws.readyState === ws.OPEN) ws.close(1000, "requests ended");
    };
    ws.on("message", (data) => {
      if (ended) return;
      let req: unknown;
      try {
        req = parseFrame(data);
      } catch (error) {
        fail(ws, error);
        return;
      }
      if (req === undefined) {
        ended = true;
        closeWhenDone();
        return;
      }
      if (++inflight >= 64) ws.pause();
      void (async () => {
        try {
          await sendJson(ws, target, await ctx.client.call(t, req, options()));
        } catch (error) {
          fail(ws, error);
        } finally {
          if (inflight-- === 64) ws.resume();
          closeWhenDone();
        }
      })();
    });
    return;
  }
  if (target.kind === "server_streaming") {
    ws.once("message", (data) => {
      void (async () => {
        try {
          const req = parseFrame(data) ?? {};
          for await (const m of ctx.client.serverStream(t, req, options())) await sendJson(ws, target, m);
          ws.close(1000);
        } catch (error) {
          fail(ws, error);
        }
      })();
    });
    return;
  }
  const queue = new FrameQueue(ws);
  ws.on("message", (data) => {
    try {
      const v = parseFrame(data);
      if (v === undefined) queue.end();
      else queue.push(v);
    } catch (error) {
      fail(ws, error);
    }
  });
  ws.once("close", () => queue.end());
  void (async () => {
    try {
      if (target.kind === "client_streaming") {
        await sendJson(ws, target, await ctx.client.clientStream(t, queue, options()));
      } else {
        for await (const m of ctx.client.bidiStream(t, queue, options())) await sendJson(ws, target, m);
      }
      ws.close(1000);
    } catch (error) {
      fail(ws, error);
    }
  })();
}

/** Attach WebSocket streaming to the gateway's HTTP server (rpc handler paths); `taken` sees each upgrade first (default: none taken). */
export function websocketUpgrades(
  ctx: GatewayContext,
  server: import("node:http").Server,
  taken: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean = () => false,
): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: ctx.maxBody });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (taken(req, socket, head)) return;
    socket.on("error", () => socket.destroy());
    void (async () => {
      const started = Date.now();
      try {
        const { path } = splitUrl(req.url ?? "/");
        const target = ctx.targets.get("GET", path) ?? (await resolveTarget(ctx, "GET", pathSegments(path), true, path));
        if ((await ctx.registry.getService(target.service)).length === 0) throw MicroError.notFound("micro.api", `service ${target.service}: not found`);
        wss.handleUpgrade(req, socket, head, (ws) => {
          // A peer that breaks the protocol (a frame over maxBody, invalid UTF-8) makes ws emit "error" and close
          // the socket; without a listener that error would be thrown and take the whole gateway down.
          ws.on("error", (err) => log.info({ method: "WS", url: req.url, reason: err.message }, "websocket protocol error from the client; connection closed"));
          ws.once("close", (code) => log.info({ method: "WS", url: req.url, service: target.service, endpoint: target.endpoint, close: code, ms: Date.now() - started }, "request"));
          serveStream(ctx, ws, target, headerMetadata(req.headers));
        });
      } catch (error) {
        log.info({ method: "WS", url: req.url, status: httpStatus(toGatewayError(error)) }, "request");
        rejectUpgrade(socket, error);
      }
    })();
  };
  server.on("upgrade", onUpgrade);
  return {
    close() {
      server.off("upgrade", onUpgrade);
      for (const ws of wss.clients) ws.close(1001, "gateway shutting down");
      wss.close();
    },
  };
}
