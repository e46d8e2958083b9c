/**
 * Publish/subscribe (Go Micro's `broker`). Implementations beside this file, one folder each with `index.ts`
 * (the factory) and `options.ts` (`Options`, `resolveOptions`, the error id): `memory/` (in-process),
 * `direct/` (the zero-config default that delivers through the registry and transport), `nats/` and `rabbitmq/`.
 * `validate.ts` and `subscribers.ts` hold what every implementation checks and does the same way; README.md
 * says how to add one.
 *
 * ## The family's contract
 * - Topics are non-empty strings (an implementation may narrow them: NATS wants subjects). A handler is a
 *   function. A queue group named `""` is no queue group. Bad arguments are a 400 `MicroError` whose id is
 *   the implementation's, `micro.broker.<name>`; so are bad options of a factory.
 * - Every plain subscription of a topic gets each message; each queue group gets it once, at one member.
 * - Publishing to a topic nobody subscribes to is not an error: the message is dropped.
 * - A subscriber's handler that throws: the failure is logged (warn) where the handler runs. Where the
 *   publisher waits for the handlers (memory, direct) `publish` rejects, once every delivery was attempted,
 *   with the subscriber's error when one failed (its id and code kept) or a 500 of the broker's id
 *   summarising them when several did. Where it cannot know (core NATS: the subscriber is in another
 *   process and delivery is fire-and-forget) `publish` resolves once the message is sent and the subscriber
 *   side logs it; with `durable` (JetStream) the message is redelivered instead.
 */
import type { Metadata } from "../metadata/index.js";

export interface BrokerMessage {
  readonly header: Metadata;
  readonly body: Uint8Array;
}

export interface BrokerEvent {
  readonly topic: string;
  readonly message: BrokerMessage;
}

/**
 * Resolving acknowledges the message; throwing reports the failure to the publisher where it waits for
 * the handlers, and asks for redelivery where the broker supports it (see the module comment).
 */
export type BrokerHandler = (event: BrokerEvent) => Promise<void> | void;

export interface BrokerSubscribeOptions {
  /** Queue group: each message goes to one member of the group (`""` or absent: no group). */
  queue?: string;
  /** At-least-once delivery that survives the subscriber being down (NATS JetStream; the others warn). */
  durable?: boolean;
}

export interface Subscription {
  readonly topic: string;
  readonly queue?: string;
  unsubscribe(): Promise<void>;
}

export interface Broker {
  /** The plugin name: `memory`, `direct`, `nats`, `rabbitmq`. */
  readonly name: string;
  /** Where it is reached, where that means something (`nats://…`, the node address of `direct`). */
  readonly address: string;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Deliver `message` to the topic's subscribers; see the module comment for what a rejection means. */
  publish(topic: string, message: BrokerMessage): Promise<void>;
  subscribe(topic: string, handler: BrokerHandler, options?: BrokerSubscribeOptions): Promise<Subscription>;
}
