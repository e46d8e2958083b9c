/**
 * The in-process broker (Go Micro's `broker/memory`): for tests and single-process apps.
 *
 * `publish` hands the message to every plain subscriber of the topic and to one member of each queue
 * group (round robin within the group), awaits the handlers, and rejects with a MicroError if any of them
 * threw — after every delivery was attempted. There is no redelivery and no persistence.
 */
import { MicroError, fromError } from "../errors/index.js";
import { logger } from "../logger/index.js";
import type { Broker, BrokerHandler, BrokerMessage, BrokerSubscribeOptions, Subscription } from "./index.js";

interface Sub {
  readonly topic: string;
  readonly queue?: string;
  readonly handler: BrokerHandler;
}

const ID = "micro.broker.memory";

/** A broker that delivers within this process only; see the module comment for delivery and errors. */
export function memoryBroker(): Broker {
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
      checkTopic(topic);
      const targets: Sub[] = [];
      const groups = new Map<string, Sub[]>();
      for (const sub of subs.get(topic) ?? []) {
        if (sub.queue === undefined) targets.push(sub);
        else {
          const members = groups.get(sub.queue) ?? [];
          members.push(sub);
          groups.set(sub.queue, members);
        }
      }
      for (const [queue, members] of groups) {
        const key = `${topic}\u0000${queue}`;
        const turn = turns.get(key) ?? 0;
        turns.set(key, turn + 1);
        targets.push(members[turn % members.length]);
      }
      const failures: string[] = [];
      await Promise.all(
        targets.map(async (sub) => {
          try {
            // Each subscriber gets its own copy, so one handler cannot change what another sees.
            await sub.handler({ topic, message: { header: { ...message.header }, body: message.body.slice() } });
          } catch (error) {
            log.warn({ topic, queue: sub.queue, err: error }, "subscriber failed to handle a message");
            failures.push(fromError(error).detail);
          }
        }),
      );
      if (failures.length > 0) {
        throw MicroError.internalServerError(ID, `publish to ${topic}: ${failures.length} of ${targets.length} subscribers failed: ${failures.join("; ")}`);
      }
    },
    async subscribe(topic: string, handler: BrokerHandler, options?: BrokerSubscribeOptions): Promise<Subscription> {
      checkTopic(topic);
      if (typeof handler !== "function") throw MicroError.badRequest(ID, `subscribe to ${topic}: the handler must be a function`);
      if (options?.durable) log.warn({ topic }, "the memory broker keeps nothing: durable is not available here (use --broker nats)");
      const sub: Sub = { topic, handler, ...(options?.queue ? { queue: options.queue } : {}) };
      let set = subs.get(topic);
      if (!set) subs.set(topic, (set = new Set()));
      set.add(sub);
      return {
        topic,
        ...(sub.queue !== undefined ? { queue: sub.queue } : {}),
        async unsubscribe(): Promise<void> {
          const current = subs.get(topic);
          current?.delete(sub);
          if (current?.size === 0) subs.delete(topic);
        },
      };
    },
  };
}

function checkTopic(topic: string): void {
  if (typeof topic !== "string" || topic === "") throw MicroError.badRequest(ID, "the topic must be a non-empty string");
}
