/**
 * One subscription of the RabbitMQ broker: its queue (a shared durable queue per queue group and topic,
 * else an exclusive auto-delete queue of its own) bound to the topic exchange, consumed on a confirm
 * channel of its own, one message at a time in order. A message is acknowledged after its handler
 * resolved; after a throw it is published again to the same queue with its redelivery count (policy
 * `requeue`) or to the dead-letter exchange (policy `dead-letter`, or past `maxRedeliveries`), and the
 * original acknowledged once RabbitMQ confirmed the copy. `start` is called again on every reconnect.
 */
import type { ConfirmChannel, ConsumeMessage, Options } from "amqplib";
import { MicroError } from "../../errors/index.js";
import type { Logger } from "../../logger/index.js";
import { withTimeout } from "../../internal/timeout.js";
import type { BrokerHandler, Subscription } from "../index.js";
import { runHandler } from "../subscribers.js";
import type { Session } from "./connection.js";
import { fromHeaders, REDELIVERIES_HEADER, TOPIC_HEADER, ERROR_HEADER } from "./headers.js";
import { ID, MAX_NAME_BYTES, type ResolvedRabbitOptions } from "./options.js";

/** The durable queue a queue group of `topic` shares: `<exchange>:<group>:<topic>`. */
export function groupQueueName(exchange: string, group: string, topic: string): string {
  const name = `${exchange}:${group}:${topic}`;
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw MicroError.badRequest(ID, `queue group "${group}" of topic "${topic}": its RabbitMQ queue name "${name}" exceeds ${MAX_NAME_BYTES} bytes; use a shorter group or topic`);
  }
  return name;
}

export class RabbitSubscription implements Subscription {
  private channel: ConfirmChannel | undefined;
  private queueName = "";
  private generation = -1;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly topic: string,
    readonly queue: string | undefined,
    private readonly handler: BrokerHandler,
    private readonly options: ResolvedRabbitOptions,
    private readonly log: Logger,
    private readonly onStop: (subscription: RabbitSubscription) => void,
  ) {}

  /** Declare, bind and consume on `session` (once per session: a no-op when already started on it or a newer one). */
  async start(session: Session): Promise<void> {
    if (this.stopped || session.generation <= this.generation) return;
    this.generation = session.generation;
    const channel = await session.model.createConfirmChannel();
    channel.on("error", (error: Error) => this.log.warn({ topic: this.topic, queue: this.queue, err: error }, "RabbitMQ subscription channel error"));
    try {
      await channel.prefetch(this.options.prefetch);
      const declared =
        this.queue === undefined
          ? await channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false })
          : await channel.assertQueue(groupQueueName(this.options.exchange, this.queue, this.topic), { durable: true, autoDelete: false });
      this.queueName = declared.queue;
      await channel.bindQueue(declared.queue, this.options.exchange, this.topic);
      await channel.consume(declared.queue, (msg) => {
        // null: RabbitMQ cancelled the consumer (the queue was deleted); the next reconnect declares it again.
        if (msg === null) return void this.log.warn({ topic: this.topic, queue: this.queue }, "RabbitMQ cancelled the subscription's consumer");
        // One message at a time, in order (as the NATS broker and Go Micro's brokers do).
        this.chain = this.chain.then(() => this.deliver(channel, msg));
      });
    } catch (error) {
      this.generation = -1;
      await channel.close().catch((e: unknown) => this.log.debug({ err: e }, "closing a failed subscription channel failed"));
      throw error;
    }
    this.channel = channel;
  }

  unsubscribe(): Promise<void> {
    return this.stop();
  }

  /** Cancel the consumer and close the channel (a plain subscription's queue goes with it). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop(this);
    const channel = this.channel;
    this.channel = undefined;
    if (!channel) return;
    // Unacknowledged messages go back to the queue when the channel closes; a handler still running finishes first.
    await withTimeout(this.chain, this.options.timeout, () => new Error("handler still running")).catch((error: unknown) =>
      this.log.warn({ topic: this.topic, err: error }, "unsubscribing while a handler runs: its message goes back to the queue"),
    );
    await channel.close().catch((error: unknown) => this.log.debug({ topic: this.topic, err: error }, "the subscription channel was already closed"));
  }

  private async deliver(channel: ConfirmChannel, msg: ConsumeMessage): Promise<void> {
    const raw = msg.properties.headers ?? {};
    const topic = typeof raw[TOPIC_HEADER] === "string" ? (raw[TOPIC_HEADER] as string) : msg.fields.routingKey;
    const redeliveries = Number(raw[REDELIVERIES_HEADER] ?? 0) || 0;
    const { requeue, maxRedeliveries } = { requeue: this.options.onError === "requeue", maxRedeliveries: this.options.maxRedeliveries };
    const retry = requeue && redeliveries < maxRedeliveries;
    const note = retry ? `it is queued again (redelivery ${redeliveries + 1} of ${maxRedeliveries})` : `it goes to the dead-letter exchange "${this.options.deadLetterExchange}"${requeue ? ` after ${redeliveries} redeliveries` : ""}`;
    const failure = await runHandler(this.handler, { topic, message: { header: fromHeaders(raw), body: new Uint8Array(msg.content.buffer, msg.content.byteOffset, msg.content.byteLength) } }, this.queue, this.log, ID, note);
    try {
      if (!failure) {
        channel.ack(msg);
        return;
      }
      const headers: Record<string, unknown> = { ...raw, [TOPIC_HEADER]: topic, [REDELIVERIES_HEADER]: retry ? redeliveries + 1 : redeliveries };
      const properties: Options.Publish = { ...msg.properties, headers, persistent: true } as Options.Publish;
      if (retry) {
        await this.confirmed(channel, (done) => channel.sendToQueue(this.queueName, msg.content, properties, done));
      } else {
        headers[ERROR_HEADER] = failure.detail.slice(0, 1000);
        await this.confirmed(channel, (done) => channel.publish(this.options.deadLetterExchange, topic, msg.content, properties, done));
        this.log.error({ topic, queue: this.queue, redeliveries, deadLetterExchange: this.options.deadLetterExchange }, "message dead-lettered after its handler failed");
      }
      channel.ack(msg);
    } catch (error) {
      // The channel is gone (reconnect) or the copy was not confirmed: the unacknowledged original comes back.
      this.log.warn({ topic, err: error }, "could not settle a message; RabbitMQ delivers it again");
      try {
        channel.nack(msg, false, true);
      } catch (e) {
        this.log.debug({ err: e }, "nack on a closed channel: RabbitMQ requeues the message itself");
      }
    }
  }

  private confirmed(channel: ConfirmChannel, send: (done: (error: unknown) => void) => void): Promise<void> {
    const copy = new Promise<void>((resolve, reject) => send((error) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve())));
    return withTimeout(copy, this.options.timeout, () => new Error(`RabbitMQ did not confirm within ${this.options.timeout} ms`));
  }
}
