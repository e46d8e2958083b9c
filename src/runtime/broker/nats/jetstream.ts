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

/** The stream of durable topics on one connection. */
export interface DurableStore {
  /** Make sure the stream exists and stores `topic` (single flight per topic). */
  ensureSubject(topic: string): Promise<void>;
  /** Forget what is known about the stream (after a publish found no stream to store into). */
  forget(topic: string): void;
  /** Publish and wait for the stream's ack: resolved means stored. */
  publish(topic: string, body: Uint8Array, options: Partial<JetStreamPublishOptions>): Promise<void>;
  /** Create (or reuse) the durable consumer `name` on `topic` and feed its messages to `deliver`. */
  consume(topic: string, name: string, deliver: (message: JsMsg) => Promise<void>): Promise<DurableConsumption>;
}

/** The durable store `stream` on connection `nc`; JetStream API calls are bounded by `timeout` ms. */
export function durableStore(nc: NatsConnection, stream: string, timeout: number, log: Logger): DurableStore {
  let manager: Promise<JetStreamManager> | undefined;
  const client: JetStreamClient = jetstream(nc, { timeout });
  /** Topics known to be covered by the stream, or being added. */
  const covered = new Map<string, Promise<void>>();

  const managerOf = (): Promise<JetStreamManager> =>
    (manager ??= jetstreamManager(nc, { timeout }).catch((error: unknown) => {
      manager = undefined;
      if (/jetstream (is )?not enabled/i.test(String(error))) {
        throw new MicroError(ID, 503, "durable delivery needs JetStream, which this NATS server does not have enabled: start nats-server with -js (and a store dir, -sd)", undefined, { cause: error });
      }
      throw error;
    }));

  const addSubject = async (topic: string): Promise<void> => {
    const jsm = await managerOf();
    // Another process may update the subject list at the same time (last write wins): re-read and retry.
    for (let attempt = 0; attempt < 5; attempt++) {
      let subjects: string[];
      try {
        const info = await jsm.streams.info(stream);
        subjects = info.config.subjects ?? [];
      } catch (error) {
        if (!(error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND)) throw error;
        try {
          await jsm.streams.add({
            name: stream,
            subjects: [topic],
            // Kept until every consumer interested in the message has acknowledged it.
            retention: RetentionPolicy.Interest,
            storage: StorageType.File,
          });
          log.info({ stream, topic }, "created JetStream stream");
          return;
        } catch (addError) {
          // Lost the creation race: read it again.
          if (attempt < 4) continue;
          throw addError;
        }
      }
      if (subjects.some((pattern) => covers(pattern, topic))) return;
      try {
        await jsm.streams.update(stream, { subjects: [...subjects, topic] });
      } catch (error) {
        if (/overlap/i.test(String(error))) {
          throw MicroError.conflict(ID, `topic "${topic}" is already stored by another JetStream stream; use that stream (option stream) or remove the overlap`);
        }
        throw error;
      }
    }
    const info = await jsm.streams.info(stream);
    if (!(info.config.subjects ?? []).some((pattern) => covers(pattern, topic))) {
      throw new MicroError(ID, 503, `could not add topic "${topic}" to JetStream stream ${stream} (concurrent updates); try again`);
    }
  };

  const ensureSubject = (topic: string): Promise<void> => {
    let pending = covered.get(topic);
    if (!pending) {
      pending = addSubject(topic);
      covered.set(topic, pending);
      // Forget failures so the next call tries again.
      pending.catch(() => covered.delete(topic));
    }
    return pending;
  };

  return {
    ensureSubject,
    forget(topic) {
      covered.delete(topic);
    },
    async publish(topic, body, options) {
      await ensureSubject(topic);
      await client.publish(topic, body, options);
    },
    async consume(topic, name, deliver) {
      await ensureSubject(topic);
      const jsm = await managerOf();
      try {
        const info = await jsm.consumers.info(stream, name);
        if (info.config.filter_subject !== topic) await jsm.consumers.update(stream, name, { filter_subject: topic });
      } catch (error) {
        if (!(error instanceof JetStreamApiError && error.code === CONSUMER_NOT_FOUND)) throw error;
        await jsm.consumers.add(stream, {
          durable_name: name,
          ack_policy: AckPolicy.Explicit,
          // A new subscriber starts with what is published from now on; an existing one resumes its backlog.
          deliver_policy: DeliverPolicy.New,
          filter_subject: topic,
          ack_wait: ACK_WAIT_MS * 1_000_000,
          max_deliver: -1,
        });
      }
      const consumer = await client.consumers.get(stream, name);
      const messages: ConsumerMessages = await consumer.consume({ max_messages: 64 });
      void (async () => {
        for await (const status of messages.status()) {
          if (status.type === "heartbeats_missed" || status.type === "consumer_not_found" || status.type === "stream_not_found") {
            log.warn({ topic, consumer: name, status: status.type }, "JetStream consumer interrupted; it resumes when the server is back");
          }
        }
      })().catch((error: unknown) => log.debug({ err: error, topic }, "JetStream consumer status updates ended")); // only logs
      const loop = (async () => {
        for await (const message of messages) await deliver(message);
      })().catch((error: unknown) => log.error({ err: error, topic }, "durable subscription ended"));
      return {
        stop: async () => {
          await messages.close().catch((error: unknown) => log.warn({ err: error, topic }, "closing the JetStream consumer failed; the server frees it after the ack wait"));
          // Make sure the server saw the unsubscribe before this resolves: until then it may still hand messages
          // to the closed pull, and those would only come back after the ack wait.
          if (!nc.isClosed()) await settleWithin(nc.flush(), timeout);
          await loop;
        },
      };
    },
  };
}
