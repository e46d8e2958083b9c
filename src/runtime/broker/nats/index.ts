/**
 * The NATS broker (Go Micro's `broker/nats`), on `@nats-io/transport-node`. Topics are subjects, queue groups
 * are NATS queue groups, message headers travel as NATS headers and bodies as they are. The connection
 * reconnects forever with a jittered, capped exponential backoff, logging each disconnect and reconnect;
 * core subscriptions are restored by the client after a reconnect.
 *
 * Core NATS is at most once and fire-and-forget: `publish` resolves once the message is handed to the
 * client, and a subscriber's handler that throws is logged on the subscriber's side (the publisher, maybe
 * in another process, cannot be told; see the family's contract in `../index.ts`).
 *
 * With `durable` (per broker, or per subscription) delivery is at least once through JetStream: publishing
 * waits for the stream's ack, each subscriber reads a durable consumer and acknowledges after its handler
 * resolved, a thrown handler gets the message again, and messages published while a subscriber is down wait
 * for it. See `jetstream.ts`.
 */
import { AuthorizationError, connect, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { JsMsg } from "@nats-io/jetstream";
import { MicroError } from "../../errors/index.js";
import { settleWithin } from "../../internal/timeout.js";
import { logger } from "../../logger/index.js";
import type { Metadata } from "../../metadata/index.js";
import type { Broker, BrokerHandler, BrokerMessage, BrokerSubscribeOptions, Subscription } from "../index.js";
import { runHandler } from "../subscribers.js";
import { checkSubscribe } from "../validate.js";
import { durableStore as openDurableStore, type DurableStore } from "./jetstream.js";
import { ID, resolveOptions, type NatsBrokerOptions } from "./options.js";
import { assertTopic, consumerName } from "./subjects.js";

export type { NatsBrokerOptions } from "./options.js";

interface ActiveSubscription extends Subscription {
  stop(): Promise<void>;
}

/**
 * Create a NATS broker. It connects on `connect()` (or the first publish/subscribe).
 *
 * ```ts
 * const broker = natsBroker({ address: "nats://10.0.0.5:4222", durable: true, name: "orders" });
 * ```
 */
export function natsBroker(options?: NatsBrokerOptions): Broker {
  const resolved = resolveOptions(options);
  const address = resolved.servers.join(",");
  const log = logger("broker", { broker: "nats" });
  const subscriptions = new Set<ActiveSubscription>();
  let connection: Promise<NatsConnection> | undefined;
  let store: DurableStore | undefined;
  let reconnectAttempts = 0;
  let warnedUnnamed = false;

  const describe = (error: unknown, what: string): MicroError => {
    if (error instanceof MicroError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new MicroError(ID, 503, `NATS broker could not ${what} at ${address}: ${message}`, undefined, { cause: error });
  };

  const open = async (): Promise<NatsConnection> => {
    const { servers, name, user, pass, token, timeout, maxReconnectWait } = resolved;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers,
        name,
        user,
        pass,
        token,
        timeout,
        reconnect: true,
        maxReconnectAttempts: -1,
        // Jittered exponential backoff, capped: a restarted server is found quickly, a long outage is not hammered.
        reconnectDelayHandler: () => {
          const cap = Math.min(maxReconnectWait, 100 * 2 ** Math.min(reconnectAttempts++, 10));
          return cap / 2 + Math.random() * (cap / 2);
        },
      });
    } catch (error) {
      if (error instanceof AuthorizationError) {
        throw new MicroError(
          ID,
          401,
          `NATS at ${address} refused the credentials (${error.message}); check MICRO_BROKER_USERNAME / MICRO_BROKER_PASSWORD or MICRO_BROKER_TOKEN.`,
          undefined,
          { cause: error },
        );
      }
      throw new MicroError(
        ID,
        503,
        `cannot connect to NATS at ${address}: ${error instanceof Error ? error.message : String(error)}. Start nats-server (with -js for durable delivery) or point --broker_address / MICRO_BROKER_ADDRESS at it.`,
        undefined,
        { cause: error },
      );
    }
    log.debug({ server: nc.getServer() }, "connected to NATS");
    void (async () => {
      for await (const status of nc.status()) {
        switch (status.type) {
          case "disconnect":
            log.warn({ server: status.server }, "disconnected from NATS; reconnecting");
            break;
          case "reconnect":
            reconnectAttempts = 0;
            log.info({ server: status.server }, "reconnected to NATS");
            break;
          case "error":
            log.warn({ err: status.error }, "NATS connection error");
            break;
          default:
            break;
        }
      }
    })().catch((error: unknown) => log.debug({ err: error }, "NATS status updates ended")); // only logs; the connection reports its own failures
    return nc;
  };

  const nc = (): Promise<NatsConnection> =>
    (connection ??= open().catch((error: unknown) => {
      connection = undefined;
      throw error;
    }));

  const durableStore = (conn: NatsConnection): DurableStore => (store ??= openDurableStore(conn, resolved.stream, resolved.timeout, log));

  /** A subscription whose `stop` (once) removes it from the broker, then runs `end`. */
  const track = (topic: string, queue: string | undefined, end: () => Promise<void>): ActiveSubscription => {
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        subscriptions.delete(subscription);
        await end();
      })());
    const subscription: ActiveSubscription = { topic, queue, stop, unsubscribe: stop };
    return subscription;
  };

  const subscribeCore = async (conn: NatsConnection, topic: string, handler: BrokerHandler, queue: string | undefined): Promise<ActiveSubscription> => {
    const sub = conn.subscribe(topic, queue !== undefined ? { queue } : undefined);
    // Resolve once the server has the subscription, so a message published right after is not missed.
    const flushed = conn.flush();
    // One message at a time per subscription, in order (as Go Micro's NATS broker does).
    const loop = (async () => {
      for await (const msg of sub) {
        // At most once: there is nothing to redeliver and no publisher to tell; the failure is logged.
        await runHandler(handler, { topic: msg.subject, message: fromMsg(msg) }, queue, log, ID, "at most once: the message is dropped");
      }
    })();
    const subscription = track(topic, queue, async () => {
      if (!sub.isClosed()) sub.unsubscribe();
      await loop;
    });
    // While reconnecting the flush waits for the server; the subscription is restored with the connection, so
    // after the timeout it is returned anyway.
    if (await settleWithin(flushed, resolved.timeout)) {
      try {
        await flushed;
      } catch (error) {
        await subscription.stop();
        throw describe(error, `subscribe to "${topic}"`);
      }
    }
    return subscription;
  };

  const subscribeDurable = async (conn: NatsConnection, topic: string, handler: BrokerHandler, queue: string | undefined): Promise<ActiveSubscription> => {
    const name = consumerName(`${queue ?? resolved.name}-${topic}`);
    if (queue === undefined && !resolved.named && !warnedUnnamed) {
      warnedUnnamed = true;
      log.warn(
        { topic, consumer: name },
        "durable subscription without a queue group on an unnamed broker: every such subscriber shares the consumer named after the topic; give the broker a name (option name or MICRO_BROKER_NAME) or use a queue group",
      );
    }
    const deliver = async (msg: JsMsg) => {
      const attempt = msg.info.deliveryCount;
      const delay = Math.min(100 * 2 ** Math.min(attempt - 1, 10), 10_000);
      const failure = await runHandler(handler, { topic: msg.subject, message: fromMsg(msg) }, queue, log, ID, `it is redelivered in ${delay} ms (attempt ${attempt})`);
      if (failure) msg.nak(delay);
      else msg.ack();
    };
    let consumption;
    try {
      consumption = await durableStore(conn).consume(topic, name, deliver);
    } catch (error) {
      throw describe(error, `subscribe durably to "${topic}"`);
    }
    // The durable consumer stays on the server: messages published meanwhile wait for the next subscriber.
    return track(topic, queue, () => consumption.stop());
  };

  return {
    name: "nats",
    address,

    async connect(): Promise<void> {
      await nc();
    },

    async disconnect(): Promise<void> {
      const pending = connection;
      if (!pending) return;
      connection = undefined;
      store = undefined;
      await Promise.all([...subscriptions].map((s) => s.stop().catch((error: unknown) => log.warn({ topic: s.topic, err: error }, "a subscription did not stop cleanly on disconnect"))));
      subscriptions.clear();
      // A connection that never opened has nothing to close; its error went to whoever awaited connect().
      const conn = await pending.catch(() => undefined);
      if (!conn || conn.isClosed()) return;
      // Drain flushes what was published and lets in-flight handlers finish; bounded, then closed outright.
      await settleWithin(conn.drain(), resolved.timeout);
      if (!conn.isClosed()) await conn.close().catch((error: unknown) => log.warn({ err: error }, "closing the NATS connection failed"));
    },

    async publish(topic: string, message: BrokerMessage): Promise<void> {
      assertTopic(topic, false);
      const conn = await nc();
      refuseOversized(conn, topic, message);
      const headers = toHeaders(message.header);
      if (resolved.durable) {
        const durable = durableStore(conn);
        try {
          // The client's message id doubles as JetStream's de-duplication id: a retried publish is stored once.
          const msgID = message.header?.["Micro-Id"];
          await durable.publish(topic, message.body, { headers, timeout: resolved.timeout, ...(msgID ? { msgID } : {}) });
        } catch (error) {
          // The stream may have been removed, or JetStream was not ready: check it again next time.
          durable.forget(topic);
          throw describe(error, `publish to "${topic}" (waiting for the JetStream ack)`);
        }
        return;
      }
      try {
        // Core NATS: buffered by the client while reconnecting, sent when the connection is back.
        conn.publish(topic, message.body, headers ? { headers } : undefined);
      } catch (error) {
        throw describe(error, `publish to "${topic}"`);
      }
    },

    async subscribe(topic: string, handler: BrokerHandler, options: BrokerSubscribeOptions = {}): Promise<Subscription> {
      const durable = options.durable ?? resolved.durable;
      const queue = checkSubscribe(ID, topic, handler, options);
      assertTopic(topic, !durable);
      if (queue !== undefined && /\s/.test(queue)) throw MicroError.badRequest(ID, `invalid queue group "${queue}": NATS queue names have no spaces`);
      const conn = await nc();
      const subscription = durable ? await subscribeDurable(conn, topic, handler, queue) : await subscribeCore(conn, topic, handler, queue);
      subscriptions.add(subscription);
      return subscription;
    },
  };
}

/**
 * A message over the server's `max_payload` is refused with a 413 naming both sizes, before NATS refuses it
 * with an argument error (which would read as an outage): nothing is sent, nothing is cut.
 */
function refuseOversized(conn: NatsConnection, topic: string, message: BrokerMessage): void {
  const max = conn.info?.max_payload;
  if (max === undefined || message.body.length <= max) return;
  throw new MicroError(
    ID,
    413,
    `publish to "${topic}": message of ${message.body.length} bytes exceeds the NATS server's max_payload of ${max} bytes; send less per message or raise max_payload in nats-server's configuration`,
  );
}

function toHeaders(header: Metadata | undefined): MsgHdrs | undefined {
  const entries = Object.entries(header ?? {});
  if (entries.length === 0) return undefined;
  const h = natsHeaders();
  for (const [key, value] of entries) {
    try {
      h.set(key, String(value));
    } catch (error) {
      throw MicroError.badRequest(ID, `message header "${key}" cannot travel as a NATS header: ${(error as Error).message}`);
    }
  }
  return h;
}

function fromMsg(msg: Msg | JsMsg): BrokerMessage {
  const header: Record<string, string> = {};
  if (msg.headers) for (const [key, values] of msg.headers) if (values.length > 0) header[key] = values[values.length - 1]!;
  return { header, body: msg.data };
}
