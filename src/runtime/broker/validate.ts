/**
 * The argument checks every broker makes the same way, each failing with a 400 `MicroError` of the
 * implementation's id (`micro.broker.<name>`).
 */
import { MicroError } from "../errors/index.js";
import type { BrokerHandler, BrokerSubscribeOptions } from "./index.js";

/** Throw unless `topic` is a non-empty string. */
export function checkTopic(id: string, topic: string): void {
  if (typeof topic !== "string" || topic === "") throw MicroError.badRequest(id, "the topic must be a non-empty string, such as \"orders.created\"");
}

/** Throw unless `handler` is a function. */
export function checkHandler(id: string, topic: string, handler: BrokerHandler): void {
  if (typeof handler !== "function") throw MicroError.badRequest(id, `subscribe to "${topic}": the handler must be a function`);
}

/**
 * Check a subscription's topic and handler; returns its queue group (`undefined` for none, `""` included).
 */
export function checkSubscribe(id: string, topic: string, handler: BrokerHandler, options: BrokerSubscribeOptions | undefined): string | undefined {
  checkTopic(id, topic);
  checkHandler(id, topic, handler);
  const queue = options?.queue;
  if (queue === undefined || queue === "") return undefined;
  if (typeof queue !== "string") throw MicroError.badRequest(id, `subscribe to "${topic}": the queue group must be a string`);
  return queue;
}
