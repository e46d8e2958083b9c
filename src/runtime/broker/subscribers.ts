/**
 * What every broker does the same way around its subscribers: splitting a topic's subscriptions into plain
 * ones and queue groups, running a handler (and logging its failure), and the publisher's error when
 * handlers failed. The contract these implement is in `index.ts`.
 */
import { MicroError, fromError } from "../errors/index.js";
import type { Logger } from "../logger/index.js";
import type { BrokerEvent, BrokerHandler } from "./index.js";

/** A topic's subscriptions: the plain ones, and the members of each queue group by group name. */
export interface QueueSplit<T> {
  readonly plain: T[];
  readonly groups: Map<string, T[]>;
}

/** Split subscriptions by queue group; `queueOf` gives a subscription's group (`undefined` or `""`: none). */
export function splitQueueGroups<T>(subscriptions: Iterable<T>, queueOf: (subscription: T) => string | undefined): QueueSplit<T> {
  const plain: T[] = [];
  const groups = new Map<string, T[]>();
  for (const sub of subscriptions) {
    const queue = queueOf(sub);
    if (queue === undefined || queue === "") plain.push(sub);
    else {
      const members = groups.get(queue);
      if (members) members.push(sub);
      else groups.set(queue, [sub]);
    }
  }
  return { plain, groups };
}

/**
 * Run a subscriber's handler; a throw is logged (warn, with `note` saying what happens next) and returned
 * as a MicroError of id `id`, `undefined` when the handler resolved.
 */
export async function runHandler(handler: BrokerHandler, event: BrokerEvent, queue: string | undefined, log: Logger, id: string, note: string): Promise<MicroError | undefined> {
  try {
    await handler(event);
    return undefined;
  } catch (error) {
    log.warn({ topic: event.topic, queue, err: error }, `subscriber failed to handle a message; ${note}`);
    return fromError(error, id);
  }
}

/**
 * Reject a publish whose subscribers failed: nothing when none did, the subscriber's own error when one
 * did, else a 500 of id `id` listing them.
 */
export function throwPublishFailures(id: string, topic: string, failures: readonly MicroError[], attempted: number): void {
  if (failures.length === 0) return;
  if (failures.length === 1) throw failures[0];
  throw MicroError.internalServerError(id, `publish to ${topic}: ${failures.length} of ${attempted} subscribers failed: ${failures.map((f) => f.detail).join("; ")}`);
}

/** Warn that `durable` was asked of a broker that keeps nothing. */
export function warnNotDurable(log: Logger, broker: string, topic: string): void {
  log.warn({ topic }, `the ${broker} broker delivers at most once and keeps nothing: durable is not available here (use --broker nats)`);
}
