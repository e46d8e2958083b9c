/**
 * The server's subscribers (Go Micro's `subscriber.go`): each registered subscriber becomes a broker handler
 * that decodes the payload by its content type (the subscriber's codec, or JSON), then runs the subscriber
 * wrappers and the handler; {@link Subscriptions} subscribes them through the broker for one run of the
 * server and unsubscribes them when it stops.
 */
import type { Broker, BrokerHandler, BrokerMessage, Subscription } from "../broker/index.js";
import { connectBroker } from "../broker/connect.js";
import type { MessageCodec } from "../codec/index.js";
import { MicroError } from "../errors/index.js";
import { applyWrappers } from "../internal/wrappers.js";
import { logger } from "../logger/index.js";
import type { Subscriber, SubscriberFunc, SubscriberWrapper } from "./server.js";

const log = logger("server");

const decoder = new TextDecoder("utf-8", { fatal: true });

function contentTypeOf(message: BrokerMessage): string | undefined {
  const h = message.header;
  return h["Content-Type"] ?? h["content-type"];
}

/** The message of a published payload, decoded with `codec` (or as JSON without one). */
export function decodePayload<T>(message: BrokerMessage, codec: MessageCodec<T> | undefined, topic: string): T {
  const contentType = (contentTypeOf(message) ?? (codec ? "application/protobuf" : "application/json")).toLowerCase();
  if (contentType.includes("json")) {
    let parsed: unknown;
    try {
      parsed = message.body.length === 0 ? null : JSON.parse(decoder.decode(message.body));
    } catch (cause) {
      throw MicroError.badRequest("micro.server", `message on topic ${topic} is not valid JSON: ${(cause as Error).message}`);
    }
    return codec ? codec.fromJSON(parsed) : (parsed as T);
  }
  if (codec) {
    try {
      return codec.decode(message.body);
    } catch (cause) {
      throw MicroError.badRequest("micro.server", `message on topic ${topic} is not a valid ${codec.typeName}: ${(cause as Error).message}`);
    }
  }
  // Binary payload and no codec to read it: hand over the bytes.
  return message.body as T;
}

/** The broker handler of one subscriber, inside the server's and its own wrappers (first is outermost). */
export function brokerHandlerFor<T>(subscriber: Subscriber<T>, serverWrappers: readonly SubscriberWrapper[]): BrokerHandler {
  const fn = applyWrappers([...serverWrappers, ...(subscriber.options.wrappers ?? [])], subscriber.handler as SubscriberFunc);
  const codec = subscriber.options.codec;
  return async (event) => {
    const message = decodePayload(event.message, codec, event.topic);
    await fn({ topic: event.topic, message, metadata: event.message.header });
  };
}

/** The registered subscribers, and their broker subscriptions while the server runs. */
export class Subscriptions {
  private readonly subscribers: Subscriber<unknown>[] = [];
  private readonly active: Subscription[] = [];
  /** Bumped when a run ends: a subscription that completes after it belongs to a stopped run. */
  private generation = 0;

  add(subscriber: Subscriber<unknown>): void {
    this.subscribers.push(subscriber);
  }

  /** The topics subscribed to, once each, sorted: published as the node's `subscribers` metadata. */
  topics(): string[] {
    return [...new Set(this.subscribers.map((s) => s.topic))].sort();
  }

  /** Subscribe one subscriber added while the server runs; a failure is logged. */
  subscribeLate(broker: Broker, subscriber: Subscriber<unknown>, wrappers: readonly SubscriberWrapper[]): void {
    const generation = this.generation;
    void connectBroker(broker)
      .then(() => this.subscribeOne(broker, subscriber, wrappers, generation))
      .catch((err: unknown) => log.error({ err, topic: subscriber.topic }, "subscribe failed"));
  }

  /** Subscribe every subscriber (at start); connects the broker first if there are any. */
  async subscribeAll(broker: Broker, wrappers: readonly SubscriberWrapper[]): Promise<void> {
    if (this.subscribers.length === 0) return;
    await connectBroker(broker);
    for (const s of this.subscribers) await this.subscribeOne(broker, s, wrappers, this.generation);
  }

  /** The run is over: subscriptions still being made are undone when they complete. */
  endRun(): void {
    this.generation += 1;
  }

  /** Unsubscribe what the run subscribed (failures are logged). */
  async unsubscribeAll(): Promise<void> {
    for (const sub of this.active.splice(0)) await unsubscribe(sub);
  }

  private async subscribeOne(broker: Broker, s: Subscriber<unknown>, wrappers: readonly SubscriberWrapper[], generation: number): Promise<void> {
    const handler = brokerHandlerFor(s, wrappers);
    const sub = await broker.subscribe(s.topic, async (event) => {
      try {
        await handler(event);
      } catch (err) {
        log.warn({ err, topic: event.topic }, "subscriber failed");
        throw err;
      }
    }, {
      ...(s.options.queue ? { queue: s.options.queue } : {}),
      ...(s.options.durable ? { durable: true } : {}),
    });
    if (generation !== this.generation) {
      // The server stopped while this subscription was being made (subscribe() while running, then stop()):
      // nothing would ever unsubscribe it, and a restart subscribes again.
      await unsubscribe(sub);
      return;
    }
    this.active.push(sub);
  }
}

function unsubscribe(sub: Subscription): Promise<void> {
  return sub.unsubscribe().catch((err: unknown) => log.warn({ err, topic: sub.topic }, "unsubscribe failed"));
}
