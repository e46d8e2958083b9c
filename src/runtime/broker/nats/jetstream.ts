/**
 * The durable half of the NATS broker: one JetStream stream stores the durable topics (created when missing,
 * its subject list grown as topics are used), each durable subscriber reads through a durable pull consumer
 * (one per queue group and topic, or per broker name and topic), and a message is acknowledged only after
 * its handler resolved — a thrown handler naks it for redelivery with a growing delay.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamPublishOptions,
  type JsMsg,
} from "@nats-io/jetstream";
import { MicroError } from "../../errors/index.js";
import type { Logger } from "../../logger/index.js";
import { settleWithin } from "../../internal/timeout.js";
import { ID } from "./options.js";
import { covers } from "./subjects.js";

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;
/** How long the server waits for an ack before redelivering (handlers that take longer get redelivered). */
const ACK_WAIT_MS = 30_000;

/** A running durable consumption; `stop()` ends it and keeps the consumer (and its backlog) on the server. */
export interface DurableConsumption {
  stop(): Promise<void>;
}

export class DurableStore {
  private manager: Promise<JetStreamManager> | undefined;
  private readonly client: JetStreamClient;
  /** Topics known to be covered by the stream, or being added. */
  private readonly covered = new Map<string, Promise<void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly timeout: number,
    private readonly log: Logger,
  ) {
    this.client = jetstream(nc, { timeout });
  }

  /** Make sure the stream exists and stores `topic` (single flight per topic). */
  ensureSubject(topic: string): Promise<void> {
    let pending = this.covered.get(topic);
    if (!pending) {
      pending = this.addSubject(topic);
      this.covered.set(topic, pending);
      // Forget failures so the next call tries again.
      pending.catch(() => this.covered.delete(topic));
    }
    return pending;
  }

  /** Forget what is known about the stream (after a publish found no stream to store into). */
  forget(topic: string): void {
    this.covered.delete(topic);
  }

  /** Publish and wait for the stream's ack: resolved means stored. */
  async publish(topic: string, body: Uint8Array, options: Partial<JetStreamPublishOptions>): Promise<void> {
    await this.ensureSubject(topic);
    await this.client.publish(topic, body, options);
  }

  /** Create (or reuse) the durable consumer `name` on `topic` and feed its messages to `deliver`. */
  async consume(topic: string, name: string, deliver: (message: JsMsg) => Promise<void>): Promise<DurableConsumption> {
    await this.ensureSubject(topic);
    const jsm = await this.jsm();
    try {
      const info = await jsm.consumers.info(this.stream, name);
      if (info.config.filter_subject !== topic) await jsm.consumers.update(this.stream, name, { filter_subject: topic });
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === CONSUMER_NOT_FOUND)) throw error;
      await jsm.consumers.add(this.stream, {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        // A new subscriber starts with what is published from now on; an existing one resumes its backlog.
        deliver_policy: DeliverPolicy.New,
        filter_subject: topic,
        ack_wait: ACK_WAIT_MS * 1_000_000,
        max_deliver: -1,
      });
    }
    const consumer = await this.client.consumers.get(this.stream, name);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 64 });
    void (async () => {
      for await (const status of messages.status()) {
        if (status.type === "heartbeats_missed" || status.type === "consumer_not_found" || status.type === "stream_not_found") {
          this.log.warn({ topic, consumer: name, status: status.type }, "JetStream consumer interrupted; it resumes when the server is back");
        }
      }
    })().catch(() => {});
    const loop = (async () => {
      for await (const message of messages) await deliver(message);
    })().catch((error: unknown) => this.log.error({ err: error, topic }, "durable subscription ended"));
    return {
      stop: async () => {
        await messages.close().catch(() => {});
        // Make sure the server saw the unsubscribe before this resolves: until then it may still hand messages
        // to the closed pull, and those would only come back after the ack wait.
        if (!this.nc.isClosed()) await settleWithin(this.nc.flush(), this.timeout);
        await loop;
      },
    };
  }

  private jsm(): Promise<JetStreamManager> {
    this.manager ??= jetstreamManager(this.nc, { timeout: this.timeout }).catch((error: unknown) => {
      this.manager = undefined;
      if (/jetstream (is )?not enabled/i.test(String(error))) {
        throw new MicroError(ID, 503, "durable delivery needs JetStream, which this NATS server does not have enabled: start nats-server with -js (and a store dir, -sd)", undefined, { cause: error });
      }
      throw error;
    });
    return this.manager;
  }

  private async addSubject(topic: string): Promise<void> {
    const jsm = await this.jsm();
    // Another process may update the subject list at the same time (last write wins): re-read and retry.
    for (let attempt = 0; attempt < 5; attempt++) {
      let subjects: string[];
      try {
        const info = await jsm.streams.info(this.stream);
        subjects = info.config.subjects ?? [];
      } catch (error) {
        if (!(error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND)) throw error;
        try {
          await jsm.streams.add({
            name: this.stream,
            subjects: [topic],
            // Kept until every consumer interested in the message has acknowledged it.
            retention: RetentionPolicy.Interest,
            storage: StorageType.File,
          });
          this.log.info({ stream: this.stream, topic }, "created JetStream stream");
          return;
        } catch (addError) {
          // Lost the creation race: read it again.
          if (attempt < 4) continue;
          throw addError;
        }
      }
      if (subjects.some((pattern) => covers(pattern, topic))) return;
      try {
        await jsm.streams.update(this.stream, { subjects: [...subjects, topic] });
      } catch (error) {
        if (/overlap/i.test(String(error))) {
          throw MicroError.conflict(ID, `topic "${topic}" is already stored by another JetStream stream; use that stream (option stream) or remove the overlap`);
        }
        throw error;
      }
    }
    const info = await jsm.streams.info(this.stream);
    if (!(info.config.subjects ?? []).some((pattern) => covers(pattern, topic))) {
      throw new MicroError(ID, 503, `could not add topic "${topic}" to JetStream stream ${this.stream} (concurrent updates); try again`);
    }
  }
}
