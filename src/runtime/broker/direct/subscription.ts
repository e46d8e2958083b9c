/**
 * The subscribing side of the direct broker: one transport listener per broker (opened by the first
 * subscription), one registry node per subscription, kept alive by re-registering every `registerInterval`
 * (as the server keeps its node registered) so that a killed process expires with its TTL, and the
 * handling of each delivery that arrives.
 */
import { MicroError, fromError } from "../../errors/index.js";
import type { Logger } from "../../logger/index.js";
import type { Listener, ServerStream } from "../../transport/index.js";
import { advertiseAddress } from "../../transport/address.js";
import { startHeartbeat, type Heartbeat } from "../../registry/heartbeat.js";
import type { BrokerHandler, Subscription } from "../index.js";
import { runHandler } from "../subscribers.js";
import type { ResolvedDirectOptions } from "./options.js";
import { ID } from "./options.js";
import { BROKER_PUBLISH_ENDPOINT, SUBSCRIPTION_KEY, subscriptionRecord } from "./protocol.js";

interface Sub {
  readonly id: string;
  readonly topic: string;
  readonly queue?: string;
  readonly handler: BrokerHandler;
}

export interface Subscriptions {
  /** The listener's address, `""` before the first subscription and after close. */
  readonly address: string;
  add(topic: string, handler: BrokerHandler, queue: string | undefined): Promise<Subscription>;
  /** Deregister every subscription and close the listener; a subscribe in progress fails. */
  close(): Promise<void>;
}

/** The subscriptions of the broker `brokerId` (their ids are `<brokerId>-<n>`). */
export function subscriptions(options: ResolvedDirectOptions, brokerId: string, log: Logger): Subscriptions {
  const { registry, transport, ttl } = options;
  const subs = new Map<string, Sub>();
  let listener: Listener | undefined;
  let listening: Promise<Listener> | undefined;
  let heartbeat: Heartbeat | undefined;
  let seq = 0;
  /** Bumped by close: a listen or subscribe that finishes after it must undo itself. */
  let epoch = 0;

  // Registered under the address other processes can dial (a wildcard listen address names this machine).
  const record = (sub: Sub, address: string) => subscriptionRecord(sub, advertiseAddress(address, undefined, options.address), transport.name, transport.secure === true);

  const listen = (): Promise<Listener> => {
    const started = epoch;
    listening ??= transport.listen(options.address, (stream) => void receive(stream)).then(
      async (l) => {
        if (epoch !== started) {
          // close() ran while the listener was being opened: nothing would ever close it.
          await l.close(0);
          throw disconnectedError();
        }
        listener = l;
        log.debug({ address: l.address }, "listening for deliveries");
        return l;
      },
      (error) => {
        listening = undefined;
        throw error;
      },
    );
    return listening;
  };

  /** Re-register every subscription so that they outlive their TTL while this process lives. */
  const keepRegistered = (): void => {
    heartbeat ??= startHeartbeat(options.registerInterval, () => {
      if (!listener) return;
      for (const sub of subs.values()) {
        registry.register(record(sub, listener.address), { ttl }).catch((error) =>
          log.warn({ topic: sub.topic, err: error }, "cannot renew a subscription in the registry; it expires unless the registry comes back"),
        );
      }
    });
  };

  /** One delivery arriving at this process. */
  const receive = async (stream: ServerStream): Promise<void> => {
    try {
      const { header } = stream;
      if (header.endpoint !== BROKER_PUBLISH_ENDPOINT) {
        stream.close(MicroError.notFound(ID, `this is a direct broker listener: unknown endpoint ${header.endpoint} (expected ${BROKER_PUBLISH_ENDPOINT})`));
        return;
      }
      const sub = subs.get(header.metadata[SUBSCRIPTION_KEY] ?? "");
      if (!sub) {
        stream.close(MicroError.notFound(ID, `no subscription ${header.metadata[SUBSCRIPTION_KEY] ?? "(none named)"} here: it was unsubscribed`));
        return;
      }
      let body: Uint8Array | undefined;
      for await (const message of stream) {
        if (body !== undefined) {
          stream.close(MicroError.badRequest(ID, "a delivery carries exactly one message"));
          return;
        }
        body = message;
      }
      if (body === undefined) {
        stream.close(MicroError.badRequest(ID, "a delivery carries exactly one message; none arrived"));
        return;
      }
      const messageHeader = { ...header.metadata };
      delete messageHeader[SUBSCRIPTION_KEY];
      const failure = await runHandler(sub.handler, { topic: sub.topic, message: { header: messageHeader, body } }, sub.queue, log, ID, "the publisher is told");
      stream.close(failure);
    } catch (error) {
      // The stream broke (publisher gone, deadline): nothing to answer.
      log.debug({ err: error }, "delivery stream ended early");
      try {
        stream.close(fromError(error, ID));
      } catch {
        // already closed
      }
    }
  };

  return {
    get address(): string {
      return listener?.address ?? "";
    },

    async add(topic, handler, queue): Promise<Subscription> {
      const started = epoch;
      const l = await listen();
      if (epoch !== started) throw disconnectedError(topic);
      const sub: Sub = { id: `${brokerId}-${++seq}`, topic, handler, ...(queue !== undefined ? { queue } : {}) };
      subs.set(sub.id, sub);
      try {
        await registry.register(record(sub, l.address), { ttl });
      } catch (error) {
        subs.delete(sub.id);
        throw new MicroError(ID, 500, `subscribe to ${topic}: cannot register in the ${registry.name} registry: ${fromError(error).detail}`, undefined, { cause: error });
      }
      if (epoch !== started) {
        // close() ran during the registration: it could not see this subscription, so undo it here.
        subs.delete(sub.id);
        // The caller gets the disconnect error below; a failed undo is logged (the record expires with its TTL).
        await registry.deregister(record(sub, l.address)).catch((error) =>
          log.warn({ topic, err: error }, "cannot undo a subscription registered during disconnect; it expires with its TTL"),
        );
        throw disconnectedError(topic);
      }
      keepRegistered();
      let active = true;
      return {
        topic,
        ...(queue !== undefined ? { queue } : {}),
        async unsubscribe(): Promise<void> {
          if (!active) return;
          active = false;
          if (!subs.delete(sub.id)) return; // close already removed it
          await registry.deregister(record(sub, l.address));
        },
      };
    },

    async close(): Promise<void> {
      epoch += 1;
      heartbeat?.stop();
      heartbeat = undefined;
      const address = listener?.address;
      const all = [...subs.values()];
      subs.clear();
      if (address) {
        await Promise.all(
          all.map((sub) => registry.deregister(record(sub, address)).catch((error) => log.warn({ topic: sub.topic, err: error }, "cannot deregister a subscription; it expires with its TTL"))),
        );
      }
      const closing = listener;
      listener = undefined;
      listening = undefined;
      await closing?.close(1000);
    },
  };
}

function disconnectedError(topic?: string): MicroError {
  return new MicroError(ID, 503, `${topic ? `subscribe to ${topic}: ` : ""}the broker was disconnected before the subscription was made; connect and subscribe again`);
}
