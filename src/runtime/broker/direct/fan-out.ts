/**
 * The publishing side of the direct broker: look the topic's subscriptions up (through a cached registry),
 * deliver to every plain subscription and to one member of each queue group, and tell the publisher what
 * failed. Queue members are tried in random order, ones that recently failed last; a member that cannot be
 * reached (or no longer has the subscription) is skipped for the next one. An unreachable subscriber is
 * logged and skipped, not an error: a crashed process stays in the registry until its TTL passes, and
 * publishing must not fail meanwhile.
 */
import { MicroError, fromError } from "../../errors/index.js";
import type { Logger } from "../../logger/index.js";
import { cachedRegistry, type CachedRegistry } from "../../registry/cache.js";
import type { NodeRecord, ServiceRecord } from "../../registry/index.js";
import { Blacklist } from "./blacklist.js";
import type { BrokerMessage } from "../index.js";
import { splitQueueGroups, throwPublishFailures } from "../subscribers.js";
import { deliveries } from "./delivery.js";
import type { ResolvedDirectOptions } from "./options.js";
import { ID } from "./options.js";
import { brokerServiceName, queueOf } from "./protocol.js";

export interface FanOut {
  /** Create the registry cache now rather than on the first publish. */
  open(): void;
  publish(topic: string, message: BrokerMessage): Promise<void>;
  close(): Promise<void>;
}

export function fanOut(options: ResolvedDirectOptions, log: Logger): FanOut {
  const { registry } = options;
  const delivery = deliveries(options);
  /** Subscriber addresses that recently could not be reached. */
  const aside = new Blacklist(5000);
  let cache: CachedRegistry | undefined;

  const lookups = (): CachedRegistry => (cache ??= cachedRegistry(registry, { ttl: options.cacheTtl }));

  const subscriptionsOf = async (topic: string): Promise<NodeRecord[]> => {
    let services: readonly ServiceRecord[];
    try {
      services = await lookups().lookup(brokerServiceName(topic));
    } catch (error) {
      throw new MicroError(ID, 500, `publish to ${topic}: cannot look its subscribers up in the ${registry.name} registry: ${fromError(error).detail}`, undefined, { cause: error });
    }
    return services.flatMap((s) => s.nodes).filter((n) => (n.metadata?.topic ?? topic) === topic);
  };

  return {
    open(): void {
      lookups();
    },

    async publish(topic, message): Promise<void> {
      const nodes = await subscriptionsOf(topic);
      if (nodes.length === 0) {
        log.debug({ topic }, "no subscribers; message dropped");
        return;
      }
      const { plain, groups } = splitQueueGroups(nodes, queueOf);
      const failures: MicroError[] = [];
      const unreachable = (node: NodeRecord, error: MicroError): void => {
        // Warn once per outage, not on every publish while a dead subscriber waits for its TTL.
        const level = aside.has(node.address) ? "debug" : "warn";
        aside.add(node.address);
        log[level]({ topic, subscription: node.id, address: node.address, err: error }, "subscriber unreachable; skipped (it leaves the registry when its TTL passes)");
      };
      await Promise.all([
        ...plain.map(async (node) => {
          const outcome = await delivery.deliver(node, topic, message);
          if (outcome.ok) return;
          if (outcome.reachable) failures.push(outcome.error);
          else unreachable(node, outcome.error);
        }),
        ...[...groups].map(async ([queue, members]) => {
          for (const node of order(members, (n) => aside.has(n.address))) {
            const outcome = await delivery.deliver(node, topic, message);
            if (outcome.ok) return;
            if (outcome.reachable) {
              failures.push(outcome.error);
              return;
            }
            unreachable(node, outcome.error);
          }
          log.warn({ topic, queue }, "no member of the queue group could be reached; message lost for this group");
        }),
      ]);
      throwPublishFailures(ID, topic, failures, plain.length + groups.size);
    },

    async close(): Promise<void> {
      delivery.close();
      await cache?.close();
      cache = undefined;
      aside.clear();
    },
  };
}

/** Members in random order, the ones `later` says recently failed at the end. */
function order<T>(items: readonly T[], later: (item: T) => boolean): T[] {
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return [...shuffled.filter((x) => !later(x)), ...shuffled.filter(later)];
}
