/**
 * The RabbitMQ broker (Go Micro's `broker/rabbitmq`), on `amqplib`. Topics are routing keys on a durable
 * topic exchange (`micro` by default; a subscription's topic may use AMQP's `*` and `#` wildcards), message
 * headers travel as AMQP headers and bodies as they are, persistent.
 *
 * - A queue group is a shared durable queue per group and topic (`<exchange>:<group>:<topic>`): each
 *   message goes to one member, and messages published while every member is down wait in the queue.
 *   A subscription without a group has an exclusive auto-delete queue of its own: it gets what is published
 *   while it is connected.
 * - Publishing uses publisher confirms: `publish` resolves once RabbitMQ took responsibility for the message
 *   (for a durable queue: stored it), and rejects with a 503 when it refused it, did not confirm within
 *   `timeout`, or the connection dropped first (the message may then have arrived: retry it, subscribers
 *   may see it twice). Nobody subscribed: the message is dropped, not an error.
 * - A subscriber acknowledges after its handler resolved. A handler that throws: the failure is logged on
 *   the subscriber's side and the message is queued again with a redelivery count (`onError: "requeue"`,
 *   at the back of the queue) up to `maxRedeliveries`, then — or at once with `onError: "dead-letter"` —
 *   published to the dead-letter exchange under its topic. The publisher is not told (it does not wait for
 *   the handlers; see the family's contract in `../index.ts`).
 * - The connection reconnects forever (jittered backoff capped at `maxReconnectWait`, servers in turn) and
 *   every subscription is declared and consumed again on the new connection. While it is down, a publish
 *   waits up to `timeout` for it to come back, then fails with a 503 (nothing was sent).
 *
 * ```ts
 * const broker = rabbitmqBroker({ address: "amqp://user:pass@10.0.0.5:5672/prod" });
 * ```
 */
import { MicroError } from "../../errors/index.js";
import { withTimeout } from "../../internal/timeout.js";
import { logger } from "../../logger/index.js";
import type { Broker, BrokerHandler, BrokerMessage, BrokerSubscribeOptions, Subscription } from "../index.js";
import { checkSubscribe, checkTopic } from "../validate.js";
import { RabbitConnection, type Session } from "./connection.js";
import { toHeaders } from "./headers.js";
import { ID, MAX_NAME_BYTES, resolveOptions, type RabbitBrokerOptions } from "./options.js";
import { groupQueueName, RabbitSubscription } from "./subscription.js";

export type { RabbitBrokerOptions, RabbitFailurePolicy } from "./options.js";

function checkRoutingKey(topic: string): void {
  checkTopic(ID, topic);
  if (Buffer.byteLength(topic) > MAX_NAME_BYTES) throw MicroError.badRequest(ID, `topic "${topic.slice(0, 40)}…" exceeds ${MAX_NAME_BYTES} bytes, the most an AMQP routing key holds`);
}

/**
 * Create a RabbitMQ broker (plugin name `"rabbitmq"`). It connects on `connect()` (or the first
 * publish/subscribe). Defaults: `amqp://127.0.0.1:5672`, exchange `micro`, `onError: "requeue"` with 5
 * redeliveries, prefetch 16, timeout 5000 ms.
 */
export function rabbitmqBroker(options?: RabbitBrokerOptions): Broker {
  const resolved = resolveOptions(options);
  const log = logger("broker", { broker: "rabbitmq" });
  const subscriptions = new Set<RabbitSubscription>();

  // Every (re)connect restores the subscriptions on the new connection before it is used.
  const connection = new RabbitConnection(resolved, log, async (session: Session) => {
    await Promise.all([...subscriptions].map((s) => s.start(session)));
  });

  const describe = (error: unknown, what: string): MicroError => {
    if (error instanceof MicroError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new MicroError(ID, 503, `RabbitMQ broker could not ${what} at ${connection.address}: ${message}`, undefined, { cause: error });
  };

  return {
    name: "rabbitmq",
    get address() {
      return connection.address;
    },

    async connect(): Promise<void> {
      await connection.open();
    },

    async disconnect(): Promise<void> {
      await Promise.all([...subscriptions].map((s) => s.stop().catch((error: unknown) => log.warn({ topic: s.topic, err: error }, "a subscription did not stop cleanly on disconnect"))));
      subscriptions.clear();
      await connection.close();
    },

    async publish(topic: string, message: BrokerMessage): Promise<void> {
      checkRoutingKey(topic);
      const headers = toHeaders(message.header, topic);
      const what = `publish to "${topic}"`;
      const session = await connection.session(resolved.timeout, what);
      const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
      const confirmed = new Promise<void>((resolve, reject) => {
        try {
          session.publisher.publish(resolved.exchange, topic, body, { headers, persistent: true }, (error: unknown) =>
            error ? reject(error instanceof Error ? error : new Error(`RabbitMQ refused the message (${String(error)})`)) : resolve(),
          );
        } catch (error) {
          // amqplib throws when the channel is closing (a reconnect under way).
          reject(error);
        }
      });
      try {
        await withTimeout(confirmed, resolved.timeout, () => new Error(`no publisher confirm within ${resolved.timeout} ms; the message may or may not have arrived`));
      } catch (error) {
        throw describe(error, `${what} (waiting for the publisher confirm; retry it)`);
      }
    },

    async subscribe(topic: string, handler: BrokerHandler, subscribeOptions: BrokerSubscribeOptions = {}): Promise<Subscription> {
      const queue = checkSubscribe(ID, topic, handler, subscribeOptions);
      checkRoutingKey(topic);
      // A name over the limit is a 400 before anything is declared.
      if (queue !== undefined) groupQueueName(resolved.exchange, queue, topic);
      else if (subscribeOptions.durable) {
        log.warn({ topic }, "a RabbitMQ subscription without a queue group has a queue of its own that goes away with it: durable needs a queue group (its shared durable queue keeps messages while every member is down)");
      }
      const subscription = new RabbitSubscription(topic, queue, handler, resolved, log, (s) => subscriptions.delete(s));
      // In the set first: a reconnect from here on starts it on the new connection.
      subscriptions.add(subscription);
      try {
        await subscription.start(await connection.session(resolved.timeout, `subscribe to "${topic}"`));
      } catch (error) {
        await subscription.stop();
        throw describe(error, `subscribe to "${topic}"`);
      }
      return subscription;
    },
  };
}
