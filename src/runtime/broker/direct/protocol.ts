/**
 * How a direct-broker subscription appears in the registry and how a delivery travels, shared by the
 * subscribing side (`subscription.ts`) and the publishing side (`delivery.ts`, `fan-out.ts`).
 */
import type { NodeRecord, ServiceRecord } from "../../registry/index.js";
import { SECURE_METADATA_KEY } from "../../transport/tls.js";

/** The registry service a topic's subscriptions are registered under. */
export function brokerServiceName(topic: string): string {
  return `micro.broker.${topic}`;
}

/** The endpoint deliveries are sent to. */
export const BROKER_PUBLISH_ENDPOINT = "Broker.Publish";

/** Request metadata naming the subscription a delivery is for (removed before the handler sees the header). */
export const SUBSCRIPTION_KEY = "Micro-Broker-Subscription";

/** The error id a subscriber of an earlier version answers "no such subscription here" with. */
export const LEGACY_ID = "micro.broker";

/**
 * One subscription's registry record: node metadata carries `topic` and `queue`, and `secure: "true"` when
 * the listener serves TLS (publishers then deliver over TLS).
 */
export function subscriptionRecord(sub: { id: string; topic: string; queue?: string }, address: string, transport: string, secure = false): ServiceRecord {
  return {
    name: brokerServiceName(sub.topic),
    version: "latest",
    metadata: { broker: "direct" },
    endpoints: [{ name: BROKER_PUBLISH_ENDPOINT, metadata: {} }],
    nodes: [{ id: sub.id, address, metadata: { broker: "direct", topic: sub.topic, queue: sub.queue ?? "", transport, ...(secure ? { [SECURE_METADATA_KEY]: "true" } : {}) } }],
  };
}

/** The queue group a registered subscription belongs to (`""`: none). */
export function queueOf(node: NodeRecord): string {
  return node.metadata?.queue ?? "";
}
