/**
 * The in-process broker (Go Micro's `broker/memory`): for tests and single-process apps.
 *
 * `publish` hands the message to every plain subscriber of the topic and to one member of each queue
 * group (round robin within the group), each with its own copy, awaits the handlers, and rejects as the
 * family's contract says (`../index.ts`) if any of them threw — after every delivery was attempted. There
 * is no redelivery and no persistence.
 */
import { logger } from "../../logger/index.js";
import type { Broker, BrokerHandler, BrokerMessage, BrokerSubscribeOptions, Subscription } from "../index.js";
import { runHandler, splitQueueGroups, throwPublishFailures, warnNotDurable } from "../subscribers.js";
import { checkSubscribe, checkTopic } from "../validate.js";
import { ID, resolveOptions, type MemoryBrokerOptions } from "./options.js";

export type { MemoryBrokerOptions } from "./options.js";

interface Sub {
  readonly topic: string;
  readonly queue?: string;
  readonly handler: BrokerHandler;
}

/** A broker that delivers within this process only; see the module comment for delivery and errors. */
export function memoryBroker(options?: MemoryBrokerOptions): Broker {
  resolveOptions(options);
  const subs = new Map<string, Set<Sub>>();
  const turns = new Map<string, number>();
  const log = logger("broker", { broker: "memory" });

  return {
    name: "memory",
    address: "",
    async connect(): Promise<void> {
      // nothing to connect to
    },
    /** Drops every subscription. */
    async disconnect(): Promise<void> {
      subs.clear();
    },
    async publish(topic: string, message: BrokerMessage): Promise<void> {
      checkTopic(ID, topic);
      const { plain: targets, groups } = splitQueueGroups(subs.get(topic) ?? [], (sub) => sub.queue);
      for (const [queue, members] of groups) {
        const key = `${topic}\u0000${queue}`;
        const turn = turns.get(key) ?? 0;
        turns.set(key, turn + 1);
        targets.push(members[turn % members.length]!);
      }
      const outcomes = await Promise.all(
        // Each subscriber gets its own copy, so one handler cannot change what another sees.
        targets.map((sub) => runHandler(sub.handler, { topic, message: { header: { ...message.header }, body: message.body.slice() } }, sub.queue, log, ID, "the publisher is told")),
      );
      throwPublishFailures(ID, topic, outcomes.filter((o) => o !== undefined), targets.length);
    },
    async subscribe(topic: string, handler: BrokerHandler, subscribeOptions?: BrokerSubscribeOptions): Promise<Subscription> {
      const queue = checkSubscribe(ID, topic, handler, subscribeOptions);
      if (subscribeOptions?.durable) warnNotDurable(log, "memory", topic);
      const sub: Sub = { topic, handler, ...(queue !== undefined ? { queue } : {}) };
      let set = subs.get(topic);
      if (!set) subs.set(topic, (set = new Set()));
      set.add(sub);
      return {
        topic,
        ...(queue !== undefined ? { queue } : {}),
        async unsubscribe(): Promise<void> {
          const current = subs.get(topic);
          current?.delete(sub);
          if (current?.size === 0) subs.delete(topic);
        },
      };
    },
  };
}
