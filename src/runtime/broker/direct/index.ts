/**
 * The direct broker: zero-config publish/subscribe across processes with no broker daemon (the idea of Go
 * Micro's http broker), delivering through the registry and the transport.
 *
 * - Subscribing (`subscription.ts`) starts, once per broker, a transport listener and registers one registry
 *   node per subscription under the service `micro.broker.<topic>` (`protocol.ts`); node metadata carries
 *   `topic` and `queue`. The node is registered again every `registerInterval` so that a killed subscriber
 *   process expires with its TTL; unsubscribe and disconnect deregister.
 * - `publish` (`fan-out.ts`) looks the topic's subscriptions up (through a cached registry) and delivers the
 *   message to every plain subscription and to one member of each queue group, one transport stream per
 *   delivery over the client's connection pool (`delivery.ts`).
 * - Acknowledgement: a delivery succeeds when the subscriber's handler resolved. `publish` resolves once
 *   every delivery was attempted; it rejects as the family's contract says (`../index.ts`) when any reached
 *   subscriber's handler threw or timed out (as Go Micro's http broker reports the subscriber's error to the
 *   publisher). A subscriber that cannot be reached at all is logged and skipped, not an error. Delivery is
 *   at most once per subscription (a queue group may see a message twice if a member dies mid-delivery);
 *   there is no persistence — use NATS JetStream (`durable`) for that.
 */
import { randomUUID } from "node:crypto";
import { logger } from "../../logger/index.js";
import type { Broker, BrokerHandler, BrokerMessage, BrokerSubscribeOptions, Subscription } from "../index.js";
import { warnNotDurable } from "../subscribers.js";
import { checkSubscribe, checkTopic } from "../validate.js";
import { fanOut } from "./fan-out.js";
import { ID, resolveOptions, type DirectBrokerOptions } from "./options.js";
import { subscriptions } from "./subscription.js";

export type { DirectBrokerOptions } from "./options.js";
export { BROKER_PUBLISH_ENDPOINT, brokerServiceName } from "./protocol.js";

/**
 * A broker with no daemon: subscriptions are registered in `registry` and deliveries travel over `transport`
 * (see the module comment). Throws a 400 MicroError (`micro.broker.direct`) when either is missing.
 */
export function directBroker(options: DirectBrokerOptions): Broker {
  const resolved = resolveOptions(options);
  const brokerId = randomUUID();
  const log = logger("broker", { broker: "direct", id: brokerId });
  const subs = subscriptions(resolved, brokerId, log);
  const publishing = fanOut(resolved, log);

  return {
    name: "direct",
    get address(): string {
      return subs.address;
    },

    async connect(): Promise<void> {
      publishing.open();
    },

    async disconnect(): Promise<void> {
      await subs.close();
      await publishing.close();
    },

    async publish(topic: string, message: BrokerMessage): Promise<void> {
      checkTopic(ID, topic);
      await publishing.publish(topic, message);
    },

    async subscribe(topic: string, handler: BrokerHandler, subscribeOptions?: BrokerSubscribeOptions): Promise<Subscription> {
      const queue = checkSubscribe(ID, topic, handler, subscribeOptions);
      if (subscribeOptions?.durable) warnNotDurable(log, "direct", topic);
      return subs.add(topic, handler, queue);
    },
  };
}
