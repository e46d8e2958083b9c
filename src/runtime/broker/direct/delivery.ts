/**
 * One delivery from a publisher to one subscription: a transport stream (endpoint `Broker.Publish`, the
 * message header as request metadata, the body as the one message) over a connection from the client's
 * pool, ending with the subscriber handler's outcome.
 */
import { TRANSPORT_ERROR_ID } from "../../transport/index.js";
import { ConnectionPool } from "../../transport/pool.js";
import { secureFromMetadata } from "../../transport/tls.js";
import { MicroError, fromError } from "../../errors/index.js";
import { isUnreachable } from "../../errors/classify.js";
import type { NodeRecord } from "../../registry/index.js";
import type { BrokerMessage } from "../index.js";
import type { ResolvedDirectOptions } from "./options.js";
import { ID } from "./options.js";
import { BROKER_PUBLISH_ENDPOINT, LEGACY_ID, SUBSCRIPTION_KEY, brokerServiceName } from "./protocol.js";

/** A delivery's outcome: `reachable: false` when the subscription could not be reached (try elsewhere). */
export type Outcome = { ok: true } | { ok: false; reachable: boolean; error: MicroError };

export interface Deliveries {
  deliver(node: NodeRecord, topic: string, message: BrokerMessage): Promise<Outcome>;
  /** Close the pooled connections (a later delivery opens new ones). */
  close(): void;
}

export function deliveries(options: ResolvedDirectOptions): Deliveries {
  let pool: ConnectionPool | undefined;
  const connections = (): ConnectionPool => (pool ??= new ConnectionPool(options.transport, { dialTimeout: Math.min(5000, options.publishTimeout) }));

  return {
    async deliver(node, topic, message): Promise<Outcome> {
      let stream;
      try {
        const conn = await connections().get(node.address, secureFromMetadata(node.metadata));
        stream = conn.openStream({
          service: brokerServiceName(topic),
          endpoint: BROKER_PUBLISH_ENDPOINT,
          contentType: message.header["Content-Type"] ?? "application/octet-stream",
          metadata: { ...message.header, [SUBSCRIPTION_KEY]: node.id },
          deadline: Date.now() + options.publishTimeout,
          kind: "unary",
        });
      } catch (error) {
        return { ok: false, reachable: false, error: fromError(error, TRANSPORT_ERROR_ID) };
      }
      try {
        await stream.send(message.body);
        stream.closeSend();
        for await (const _ of stream) {
          // a delivery has no response messages; the loop ends with the handler's outcome
        }
        return { ok: true };
      } catch (error) {
        const e = fromError(error, ID);
        // Connection lost, or a stale registration for a subscription that is gone: try elsewhere.
        const gone = e.code === 404 && (e.id === ID || e.id === LEGACY_ID);
        return { ok: false, reachable: !(isUnreachable(e) || gone), error: e };
      }
    },

    close(): void {
      pool?.close();
      pool = undefined;
    },
  };
}
