/**
 * Live views over Server-Sent Events: the service list (`GET /api/watch/services`, an event `services`
 * with every summary whenever the registry's watch reports a change) and a topic (`GET /api/watch/topic?topic=`,
 * an event `message` per message the broker delivers). Both end when the client goes away.
 */
import type { ServerResponse } from "node:http";
import type { Broker } from "../runtime/broker/index.js";
import { connectBroker } from "../runtime/broker/connect.js";
import { logger } from "../runtime/logger/index.js";
import type { Registry } from "../runtime/registry/index.js";
import { summarize } from "./services.js";

const log = logger("web");

/** Heartbeat comments keep idle connections (and proxies in between) open. */
const KEEPALIVE_MS = 15_000;

/** Start an SSE response; returns a writer of events and the end signal. */
export function openEvents(res: ServerResponse): { send(event: string, data: unknown): void; closed: AbortSignal } {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-content-type-options": "nosniff" });
  res.write(": open\n\n");
  const ac = new AbortController();
  const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
  keepalive.unref();
  res.once("close", () => {
    clearInterval(keepalive);
    ac.abort();
  });
  return {
    send(event, data) {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    closed: ac.signal,
  };
}

/** The service list, now and after every registry change, until the client goes away. */
export async function watchServices(res: ServerResponse, registry: Registry, namespace: string): Promise<void> {
  const events = openEvents(res);
  const watcher = registry.watch({ signal: events.closed });
  const send = async (): Promise<void> => events.send("services", summarize(await registry.listServices(), namespace));
  try {
    await send();
    for await (const _ of watcher) {
      // Several events often come together (one per node): the list is read again for each, which is cheap.
      await send();
    }
  } catch (error) {
    log.warn({ err: error }, "service watch ended");
    events.send("failure", { detail: (error as Error).message });
  } finally {
    watcher.stop();
    res.end();
  }
}

/** Body of a broker message as the page shows it: JSON when it is JSON, text otherwise. */
function bodyValue(body: Uint8Array): unknown {
  const text = new TextDecoder().decode(body);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Every message of `topic` until the client goes away. */
export async function watchTopic(res: ServerResponse, broker: Broker, topic: string): Promise<void> {
  await connectBroker(broker);
  let events: ReturnType<typeof openEvents> | undefined;
  const subscription = await broker.subscribe(topic, (e) => {
    events?.send("message", { topic: e.topic, header: e.message.header, message: bodyValue(e.message.body) });
  });
  events = openEvents(res);
  events.send("subscribed", { topic });
  await new Promise<void>((resolve) => events.closed.addEventListener("abort", () => resolve(), { once: true }));
  await subscription.unsubscribe().catch((error: unknown) => log.warn({ err: error, topic }, "unsubscribing a topic watch failed"));
}
