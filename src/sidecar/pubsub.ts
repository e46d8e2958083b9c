/**
 * Messages from the broker to the app:
 *
 * - `GET /broker/<topic>?queue=<group>` upgraded to a WebSocket subscribes for as long as the socket is open.
 *   The first text frame is `{"subscribed": topic, "queue": group}` (the subscription is live), then one frame
 *   per message: `{"topic", "metadata", "message"}` (`message` is the JSON payload; a payload that is not
 *   JSON comes as `"body"`, base64). A frame the socket could not take counts as a failed delivery.
 * - `--app_subscribe topic=path` POSTs each message's payload to `<app><path>` with its content type and its
 *   metadata as headers; an answer other than 2xx, or none in time, fails the delivery, so the broker in use
 *   redelivers as it does for any subscriber (queue group: the app's name).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { httpStatus, rejectUpgrade } from "../api/errors.js";
import { connectBroker } from "../runtime/broker/connect.js";
import type { Broker, BrokerEvent, Subscription } from "../runtime/broker/index.js";
import { fromError, MicroError } from "../runtime/errors/index.js";
import { logger } from "../runtime/logger/index.js";
import { appError, metadataHeaders, postToApp } from "./app-http.js";
import { TOPIC } from "./http-api.js";

const log = logger("sidecar");

/** A broker message as the JSON the app receives over the WebSocket. */
export function eventFrame(event: BrokerEvent): Record<string, unknown> {
  const { header, body } = event.message;
  const frame: Record<string, unknown> = { topic: event.topic, metadata: header };
  try {
    frame.message = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    frame.body = Buffer.from(body).toString("base64");
  }
  return frame;
}

function send(ws: WebSocket, value: unknown): Promise<void> {
  return new Promise((resolve, reject) => ws.send(JSON.stringify(value), (err) => (err ? reject(err) : resolve())));
}

/** Serve `GET /broker/<topic>` upgrades; returns false for other paths. Subscriptions end with their sockets. */
export function brokerUpgrade(wss: WebSocketServer, broker: Broker, req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const url = new URL(req.url ?? "/", "http://sidecar");
  const m = /^\/broker\/([^/]+)$/.exec(url.pathname);
  if (!m) return false;
  socket.on("error", () => socket.destroy());
  let topic: string;
  try {
    topic = decodeURIComponent(m[1]!);
  } catch {
    topic = "";
  }
  if (!TOPIC.test(topic)) {
    rejectUpgrade(socket, MicroError.badRequest("micro.api", `topic "${m[1]}" may hold letters, digits and . _ - : only`));
    return true;
  }
  const queue = url.searchParams.get("queue") || undefined;
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on("error", (err) => log.info({ topic, reason: err.message }, "websocket error from a subscriber; connection closed"));
    let sub: Subscription | undefined;
    let closed = false;
    ws.once("close", () => {
      closed = true;
      sub?.unsubscribe().catch((err: unknown) => log.warn({ err, topic }, "unsubscribing a closed WebSocket subscriber failed"));
    });
    void (async () => {
      try {
        await connectBroker(broker);
        sub = await broker.subscribe(
          topic,
          async (event) => {
            if (closed || ws.readyState !== ws.OPEN) throw new MicroError("micro.sidecar", 503, `the WebSocket subscriber of ${topic} has gone`);
            await send(ws, eventFrame(event));
          },
          { queue },
        );
        if (closed) await sub.unsubscribe();
        else await send(ws, { subscribed: topic, queue: queue ?? "" });
      } catch (error) {
        const e = fromError(error, "micro.sidecar");
        if (!closed) {
          // The close below carries the code and detail too, so a frame that cannot be sent loses nothing; logged.
          await send(ws, { error: e.toJSON() }).catch((err: unknown) => log.info({ err, topic }, "could not send the subscription's error frame; closing with its code"));
          ws.close(4000 + httpStatus(e), e.detail.slice(0, 120));
        }
      }
    })();
  });
  return true;
}

/** One `--app_subscribe topic=path`. */
export interface AppSubscription {
  topic: string;
  path: string;
}

/** `topic=/path` as a subscription. @throws MicroError 400. */
export function parseAppSubscription(text: string): AppSubscription {
  const eq = text.indexOf("=");
  const topic = eq < 0 ? "" : text.slice(0, eq);
  const path = eq < 0 ? "" : text.slice(eq + 1);
  if (!TOPIC.test(topic) || !path.startsWith("/")) throw MicroError.badRequest("micro.sidecar", `--app_subscribe "${text}": use topic=/path, e.g. orders=/events/orders`);
  return { topic, path };
}

/** Subscribe the app's paths; each message is POSTed to the app and a failure is the subscriber's error. */
export async function subscribeApp(broker: Broker, subs: readonly AppSubscription[], app: { url: string; name: string; timeout: number; queue?: string }): Promise<Subscription[]> {
  if (subs.length === 0) return [];
  await connectBroker(broker);
  const out: Subscription[] = [];
  for (const s of subs) {
    out.push(
      await broker.subscribe(
        s.topic,
        async (event) => {
          const what = `a message on ${event.topic}`;
          const url = `${app.url}${s.path}`;
          const { header, body } = event.message;
          const contentType = header["Content-Type"] ?? header["content-type"] ?? "application/json";
          const res = await postToApp({ id: app.name, what, url, body, contentType, headers: metadataHeaders(header), timeout: app.timeout });
          if (res.status < 200 || res.status > 299) throw appError(app.name, what, res.status, res.text);
        },
        { queue: app.queue },
      ),
    );
  }
  return out;
}
