/**
 * The NATS broker (Go Micro's `broker/nats`), on `@nats-io/transport-node`. Topics are subjects, queue groups
 * are NATS queue groups, message headers travel as NATS headers and bodies as they are. The connection
 * reconnects forever with a jittered, capped exponential backoff, logging each disconnect and reconnect;
 * core subscriptions are restored by the client after a reconnect.
 *
 * With `durable` (per broker, or per subscription) delivery is at least once through JetStream: publishing
 * waits for the stream's ack, each subscriber reads a durable consumer and acknowledges after its handler
 * resolved, a thrown handler gets the message again, and messages published while a subscriber is down wait
 * for it. See `jetstream.ts`.
 */
import { AuthorizationError, connect, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { JsMsg } from "@nats-io/jetstream";
import { MicroError } from "../../errors/index.js";
import { logger } from "../../logger/index.js";
import type { Metadata } from "../../metadata/index.js";
import type { Broker, BrokerHandler, BrokerMessage, BrokerSubscribeOptions, Subscription } from "../index.js";
import { DurableStore } from "./jetstream.js";
import { resolveOptions, type NatsBrokerOptions, type ResolvedNatsOptions } from "./options.js";
import { assertTopic, consumerName } from "./subjects.js";

export type { NatsBrokerOptions } from "./options.js";

const ID = "broker.nats";

/**
 * Create a NATS broker. It connects on `connect()` (or the first publish/subscribe).
 *
 * ```ts
 * const broker = natsBroker({ address: "nats://10.0.0.5:4222", durable: true, name: "orders" });
 * ```
 */
export function natsBroker(options?: NatsBrokerOptions): Broker {
  return new NatsBroker(resolveOptions(options));
}

interface ActiveSubscription extends Subscription {
  stop(): Promise<void>;
}

class NatsBroker implements Broker {
  readonly name = "nats";
  readonly address: string;
  private connection: Promise<NatsConnection> | undefined;
  private store: DurableStore | undefined;
  private readonly subscriptions = new Set<ActiveSubscription>();
  private readonly log = logger("broker", { broker: "nats" });
  private reconnectAttempts = 0;
  private warnedUnnamed = false;

  constructor(private readonly options: ResolvedNatsOptions) {
    this.address = options.servers.join(",");
  }

  connect(): Promise<void> {
    return this.nc().then(() => undefined);
  }

  async disconnect(): Promise<void> {
    const pending = this.connection;
    if (!pending) return;
    this.connection = undefined;
    this.store = undefined;
    await Promise.all([...this.subscriptions].map((s) => s.stop().catch(() => {})));
    this.subscriptions.clear();
    const nc = await pending.catch(() => undefined);
    if (!nc || nc.isClosed()) return;
    // Drain flushes what was published and lets in-flight handlers finish; bounded, then closed outright.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([nc.drain().catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, this.options.timeout)))]);
    clearTimeout(timer);
    if (!nc.isClosed()) await nc.close().catch(() => {});
  }

  async publish(topic: string, message: BrokerMessage): Promise<void> {
    assertTopic(topic, false);
    const nc = await this.nc();
    const headers = toHeaders(message.header);
    if (this.options.durable) {
      const store = this.durableStore(nc);
      try {
        // The client's message id doubles as JetStream's de-duplication id: a retried publish is stored once.
        const msgID = message.header?.["Micro-Id"];
        await store.publish(topic, message.body, { headers, timeout: this.options.timeout, ...(msgID ? { msgID } : {}) });
      } catch (error) {
        // The stream may have been removed, or JetStream was not ready: check it again next time.
        store.forget(topic);
        throw this.describe(error, `publish to "${topic}" (waiting for the JetStream ack)`);
      }
      return;
    }
    try {
      // Core NATS: buffered by the client while reconnecting, sent when the connection is back.
      nc.publish(topic, message.body, headers ? { headers } : undefined);
    } catch (error) {
      throw this.describe(error, `publish to "${topic}"`);
    }
  }

  async subscribe(topic: string, handler: BrokerHandler, options: BrokerSubscribeOptions = {}): Promise<Subscription> {
    assertTopic(topic, !(options.durable ?? this.options.durable));
    if (typeof handler !== "function") throw MicroError.badRequest(ID, `subscribe to "${topic}" needs a handler function`);
    if (options.queue !== undefined && (options.queue === "" || /\s/.test(options.queue))) {
      throw MicroError.badRequest(ID, `invalid queue group "${options.queue}": a non-empty name without spaces`);
    }
    const nc = await this.nc();
    const durable = options.durable ?? this.options.durable;
    const subscription = durable ? await this.subscribeDurable(nc, topic, handler, options.queue) : await this.subscribeCore(nc, topic, handler, options.queue);
    this.subscriptions.add(subscription);
    return subscription;
  }

  private async subscribeCore(nc: NatsConnection, topic: string, handler: BrokerHandler, queue: string | undefined): Promise<ActiveSubscription> {
    const sub = nc.subscribe(topic, queue !== undefined ? { queue } : undefined);
    // Resolve once the server has the subscription, so a message published right after is not missed.
    const flushed = nc.flush();
    // One message at a time per subscription, in order (as Go Micro's NATS broker does).
    const loop = (async () => {
      for await (const msg of sub) {
        try {
          await handler({ topic: msg.subject, message: fromMsg(msg) });
        } catch (error) {
          // At most once: there is nothing to redeliver; the handler's failure is logged.
          this.log.error({ err: error, topic: msg.subject, queue }, "subscriber failed to handle a message");
        }
      }
    })();
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        this.subscriptions.delete(subscription);
        if (!sub.isClosed()) sub.unsubscribe();
        await loop;
      })());
    const subscription: ActiveSubscription = { topic, queue, stop, unsubscribe: stop };
    // While reconnecting the flush waits for the server; the subscription is restored with the connection, so
    // after the timeout it is returned anyway.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([flushed, new Promise((resolve) => (timer = setTimeout(resolve, this.options.timeout)))]);
    } catch (error) {
      await stop();
      throw this.describe(error, `subscribe to "${topic}"`);
    } finally {
      clearTimeout(timer);
    }
    return subscription;
  }

  private async subscribeDurable(nc: NatsConnection, topic: string, handler: BrokerHandler, queue: string | undefined): Promise<ActiveSubscription> {
    const name = consumerName(`${queue ?? this.options.name}-${topic}`);
    if (queue === undefined && !this.options.named && !this.warnedUnnamed) {
      this.warnedUnnamed = true;
      this.log.warn(
        { topic, consumer: name },
        "durable subscription without a queue group on an unnamed broker: every such subscriber shares the consumer named after the topic; give the broker a name (option name or MICRO_BROKER_NAME) or use a queue group",
      );
    }
    const deliver = async (msg: JsMsg) => {
      try {
        await handler({ topic: msg.subject, message: fromMsg(msg) });
        msg.ack();
      } catch (error) {
        const attempt = msg.info.deliveryCount;
        const delay = Math.min(100 * 2 ** Math.min(attempt - 1, 10), 10_000);
        this.log.warn({ err: error, topic: msg.subject, queue, attempt, redeliverInMs: delay }, "subscriber failed; message will be redelivered");
        msg.nak(delay);
      }
    };
    let consumption;
    try {
      consumption = await this.durableStore(nc).consume(topic, name, deliver);
    } catch (error) {
      throw this.describe(error, `subscribe durably to "${topic}"`);
    }
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        this.subscriptions.delete(subscription);
        // The durable consumer stays on the server: messages published meanwhile wait for the next subscriber.
        await consumption.stop();
      })());
    const subscription: ActiveSubscription = { topic, queue, stop, unsubscribe: stop };
    return subscription;
  }

  private durableStore(nc: NatsConnection): DurableStore {
    this.store ??= new DurableStore(nc, this.options.stream, this.options.timeout, this.log);
    return this.store;
  }

  private nc(): Promise<NatsConnection> {
    this.connection ??= this.open().catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }

  private async open(): Promise<NatsConnection> {
    const { servers, name, user, pass, token, timeout, maxReconnectWait } = this.options;
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
          const cap = Math.min(maxReconnectWait, 100 * 2 ** Math.min(this.reconnectAttempts++, 10));
          return cap / 2 + Math.random() * (cap / 2);
        },
      });
    } catch (error) {
      if (error instanceof AuthorizationError) {
        throw new MicroError(
          ID,
          401,
          `NATS at ${this.address} refused the credentials (${error.message}); check MICRO_BROKER_USERNAME / MICRO_BROKER_PASSWORD or MICRO_BROKER_TOKEN.`,
          undefined,
          { cause: error },
        );
      }
      throw new MicroError(
        ID,
        503,
        `cannot connect to NATS at ${this.address}: ${error instanceof Error ? error.message : String(error)}. Start nats-server (with -js for durable delivery) or point --broker_address / MICRO_BROKER_ADDRESS at it.`,
        undefined,
        { cause: error },
      );
    }
    this.log.debug({ server: nc.getServer() }, "connected to NATS");
    void (async () => {
      for await (const status of nc.status()) {
        switch (status.type) {
          case "disconnect":
            this.log.warn({ server: status.server }, "disconnected from NATS; reconnecting");
            break;
          case "reconnect":
            this.reconnectAttempts = 0;
            this.log.info({ server: status.server }, "reconnected to NATS");
            break;
          case "error":
            this.log.warn({ err: status.error }, "NATS connection error");
            break;
          default:
            break;
        }
      }
    })().catch(() => {});
    return nc;
  }

  private describe(error: unknown, what: string): MicroError {
    if (error instanceof MicroError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new MicroError(ID, 503, `NATS broker could not ${what} at ${this.address}: ${message}`, undefined, { cause: error });
  }
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
