/**
 * The direct broker: zero-config publish/subscribe across processes with no broker daemon (the idea of Go
 * Micro's http broker), delivering through the registry and the transport.
 *
 * - Subscribing starts (once per broker) a transport listener and registers one registry node per
 *   subscription under the service `micro.broker.<topic>`; node metadata carries `topic` and `queue`. The
 *   node is registered again every `registerInterval` so that a killed subscriber process expires with its
 *   TTL; unsubscribe and disconnect deregister.
 * - `publish` looks the topic's subscriptions up (through a cached registry) and delivers the message to
 *   every plain subscription and to one member of each queue group, one transport stream per delivery
 *   (endpoint `Broker.Publish`, the message header as request metadata, the body as the one message).
 *   Queue members are tried in random order, ones that recently failed last; a member that cannot be
 *   reached (or no longer has the subscription) is skipped for the next one.
 * - Acknowledgement: a delivery succeeds when the subscriber's handler resolved. `publish` resolves once
 *   every delivery was attempted; it rejects with a MicroError when any reached subscriber's handler threw
 *   or timed out (as Go Micro's http broker reports the subscriber's error to the publisher). A subscriber
 *   that cannot be reached at all is logged and skipped, not an error: a crashed process stays in the
 *   registry until its TTL passes, and publishing must not fail meanwhile. Delivery is at most once per
 *   subscription (a queue group may see a message twice if a member dies mid-delivery); there is no
 *   persistence — use NATS JetStream (`durable`) for that.
 */
import { randomUUID } from "node:crypto";
import { MicroError, fromError } from "../../errors/index.js";
import { isUnreachable } from "../../errors/classify.js";
import { logger } from "../../logger/index.js";
import { cachedRegistry, type CachedRegistry } from "../../registry/cache.js";
import type { NodeRecord, Registry, ServiceRecord } from "../../registry/index.js";
import { Blacklist } from "../../selector/blacklist.js";
import type { Connection, Listener, ServerStream, Transport } from "../../transport/index.js";
import type { Broker, BrokerHandler, BrokerMessage, BrokerSubscribeOptions, Subscription } from "../index.js";

export interface DirectBrokerOptions {
  /** Where subscriptions are registered and looked up. */
  registry: Registry;
  /** Carries the deliveries. */
  transport: Transport;
  /** Listen address for deliveries (default `127.0.0.1:0`, a free port on loopback). */
  address?: string;
  /** Seconds a subscription stays registered without a heartbeat (default 90). */
  ttl?: number;
  /** Milliseconds between re-registrations (default a third of the TTL). */
  registerInterval?: number;
  /** Milliseconds a subscriber's handler may take per message (default 10000). */
  publishTimeout?: number;
  /** Milliseconds a topic's subscriptions are cached by publishers (default 60000; the registry watch keeps them current). */
  cacheTtl?: number;
}

/** The registry service a topic's subscriptions are registered under. */
export function brokerServiceName(topic: string): string {
  return `micro.broker.${topic}`;
}

/** The endpoint deliveries are sent to. */
export const BROKER_PUBLISH_ENDPOINT = "Broker.Publish";
/** Request metadata naming the subscription a delivery is for (removed before the handler sees the header). */
const SUBSCRIPTION_KEY = "Micro-Broker-Subscription";
const ID = "micro.broker";

interface Sub {
  readonly id: string;
  readonly topic: string;
  readonly queue?: string;
  readonly handler: BrokerHandler;
}

type Outcome = { ok: true } | { ok: false; reachable: boolean; error: MicroError };

/**
 * A broker with no daemon: subscriptions are registered in `registry` and deliveries travel over `transport`
 * (see the module comment). Throws a TypeError when either is missing.
 */
export function directBroker(options: DirectBrokerOptions): Broker {
  const { registry, transport } = options;
  if (!registry || !transport) throw new TypeError("directBroker needs { registry, transport }");
  const listenAddress = options.address && options.address !== "" ? options.address : "127.0.0.1:0";
  const ttl = options.ttl ?? 90;
  const registerInterval = options.registerInterval ?? Math.max(100, (ttl * 1000) / 3);
  const publishTimeout = options.publishTimeout ?? 10_000;
  const brokerId = randomUUID();
  const log = logger("broker", { broker: "direct", id: brokerId });
  const subs = new Map<string, Sub>();
  const connections = new Map<string, Promise<Connection>>();
  const aside = new Blacklist(5000);
  let cache: CachedRegistry | undefined;
  let listener: Listener | undefined;
  let listening: Promise<Listener> | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let seq = 0;
  /** Bumped by disconnect: a listen or subscribe that finishes after it must undo itself. */
  let epoch = 0;

  const lookups = (): CachedRegistry => (cache ??= cachedRegistry(registry, { ttl: options.cacheTtl ?? 60_000 }));

  const record = (sub: Sub, address: string): ServiceRecord => ({
    name: brokerServiceName(sub.topic),
    version: "latest",
    metadata: { broker: "direct" },
    endpoints: [{ name: BROKER_PUBLISH_ENDPOINT, metadata: {} }],
    nodes: [
      {
        id: sub.id,
        address,
        metadata: { broker: "direct", topic: sub.topic, queue: sub.queue ?? "", transport: transport.name },
      },
    ],
  });

  const listen = (): Promise<Listener> => {
    const started = epoch;
    listening ??= transport.listen(listenAddress, (stream) => void receive(stream)).then(
      async (l) => {
        if (epoch !== started) {
          // disconnect() ran while the listener was being opened: nothing would ever close it.
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
  const startHeartbeat = (): void => {
    if (heartbeat) return;
    heartbeat = setInterval(() => {
      if (!listener) return;
      for (const sub of subs.values()) {
        registry.register(record(sub, listener.address), { ttl }).catch((error) =>
          log.warn({ topic: sub.topic, err: error }, "cannot renew a subscription in the registry; it expires unless the registry comes back"),
        );
      }
    }, registerInterval);
    heartbeat.unref(); // the listener keeps a subscriber alive, not the heartbeat
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
      try {
        await sub.handler({ topic: sub.topic, message: { header: messageHeader, body } });
        stream.close();
      } catch (error) {
        log.warn({ topic: sub.topic, queue: sub.queue, err: error }, "subscriber failed to handle a message; the publisher is told");
        stream.close(fromError(error, ID));
      }
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

  const connect = (address: string): Promise<Connection> => {
    let pending = connections.get(address);
    if (!pending) {
      pending = transport.dial(address, { timeout: Math.min(5000, publishTimeout) });
      connections.set(address, pending);
      pending.then(
        (conn) => conn.onClose(() => connections.get(address) === pending && connections.delete(address)),
        () => connections.get(address) === pending && connections.delete(address),
      );
    }
    return pending;
  };

  /** Send one message to one subscription and wait for its handler. */
  const deliver = async (node: NodeRecord, topic: string, message: BrokerMessage): Promise<Outcome> => {
    let conn: Connection;
    try {
      conn = await connect(node.address);
      if (conn.closed) {
        connections.delete(node.address);
        conn = await connect(node.address);
      }
    } catch (error) {
      return { ok: false, reachable: false, error: fromError(error, "micro.transport") };
    }
    try {
      const stream = conn.openStream({
        service: brokerServiceName(topic),
        endpoint: BROKER_PUBLISH_ENDPOINT,
        contentType: message.header["Content-Type"] ?? "application/octet-stream",
        metadata: { ...message.header, [SUBSCRIPTION_KEY]: node.id },
        deadline: Date.now() + publishTimeout,
        kind: "unary",
      });
      await stream.send(message.body);
      stream.closeSend();
      for await (const _ of stream) {
        // a delivery has no response messages; the loop ends with the handler's outcome
      }
      return { ok: true };
    } catch (error) {
      const e = fromError(error, ID);
      // Connection lost, or a stale registration for a subscription that is gone: try elsewhere.
      const unreachable = isUnreachable(e) || (e.id === ID && e.code === 404);
      return { ok: false, reachable: !unreachable, error: e };
    }
  };

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
    name: "direct",
    get address(): string {
      return listener?.address ?? "";
    },

    async connect(): Promise<void> {
      lookups();
    },

    async disconnect(): Promise<void> {
      epoch += 1;
      clearInterval(heartbeat);
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
      const conns = [...connections.values()];
      connections.clear();
      await Promise.all(conns.map((c) => c.then((conn) => conn.close(), () => undefined)));
      await cache?.close();
      cache = undefined;
      aside.clear();
    },

    async publish(topic: string, message: BrokerMessage): Promise<void> {
      checkTopic(topic);
      const nodes = await subscriptionsOf(topic);
      if (nodes.length === 0) {
        log.debug({ topic }, "no subscribers; message dropped");
        return;
      }
      const plain: NodeRecord[] = [];
      const groups = new Map<string, NodeRecord[]>();
      for (const node of nodes) {
        const queue = node.metadata?.queue ?? "";
        if (queue === "") plain.push(node);
        else groups.set(queue, [...(groups.get(queue) ?? []), node]);
      }
      const failures: MicroError[] = [];
      const unreachable = (node: NodeRecord, error: MicroError): void => {
        // Warn once per outage, not on every publish while a dead subscriber waits for its TTL.
        const level = aside.has(node.address) ? "debug" : "warn";
        aside.add(node.address);
        log[level]({ topic, subscription: node.id, address: node.address, err: error }, "subscriber unreachable; skipped (it leaves the registry when its TTL passes)");
      };
      await Promise.all([
        ...plain.map(async (node) => {
          const outcome = await deliver(node, topic, message);
          if (outcome.ok) return;
          if (outcome.reachable) failures.push(outcome.error);
          else unreachable(node, outcome.error);
        }),
        ...[...groups].map(async ([queue, members]) => {
          for (const node of order(members, (n) => aside.has(n.address))) {
            const outcome = await deliver(node, topic, message);
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
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) {
        throw MicroError.internalServerError(ID, `publish to ${topic}: ${failures.length} subscribers failed: ${failures.map((f) => f.detail).join("; ")}`);
      }
    },

    async subscribe(topic: string, handler: BrokerHandler, subscribeOptions?: BrokerSubscribeOptions): Promise<Subscription> {
      checkTopic(topic);
      if (typeof handler !== "function") throw MicroError.badRequest(ID, `subscribe to ${topic}: the handler must be a function`);
      const queue = subscribeOptions?.queue ? subscribeOptions.queue : undefined;
      if (subscribeOptions?.durable) log.warn({ topic }, "the direct broker delivers at most once and keeps nothing: durable is not available here (use --broker nats)");
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
        // disconnect() ran during the registration: it could not see this subscription, so undo it here.
        subs.delete(sub.id);
        await registry.deregister(record(sub, l.address)).catch(() => undefined);
        throw disconnectedError(topic);
      }
      startHeartbeat();
      let active = true;
      return {
        topic,
        ...(queue !== undefined ? { queue } : {}),
        async unsubscribe(): Promise<void> {
          if (!active) return;
          active = false;
          if (!subs.delete(sub.id)) return; // disconnect already removed it
          await registry.deregister(record(sub, l.address));
        },
      };
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

function disconnectedError(topic?: string): MicroError {
  return new MicroError(ID, 503, `${topic ? `subscribe to ${topic}: ` : ""}the broker was disconnected before the subscription was made; connect and subscribe again`);
}

function checkTopic(topic: string): void {
  if (typeof topic !== "string" || topic === "") throw MicroError.badRequest(ID, "the topic must be a non-empty string");
}
