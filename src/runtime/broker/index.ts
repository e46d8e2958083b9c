/**
 * Publish/subscribe (Go Micro's `broker`). Implementations beside this file: `memory.ts`, the zero-config
 * default that delivers through the registry and transport, and `nats/`.
 */
import type { Metadata } from "../metadata/index.js";

export interface BrokerMessage {
  readonly header: Metadata;
  readonly body: Uint8Array;
}

export interface BrokerEvent {
  readonly topic: string;
  readonly message: BrokerMessage;
}

/** Resolving acknowledges the message; throwing asks for redelivery where the broker supports it. */
export type BrokerHandler = (event: BrokerEvent) => Promise<void> | void;

export interface BrokerSubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /** At-least-once delivery that survives the subscriber being down (NATS JetStream). */
  durable?: boolean;
}

export interface Subscription {
  readonly topic: string;
  readonly queue?: string;
  unsubscribe(): Promise<void>;
}

export interface Broker {
  /** The plugin name: `memory`, `direct`, `nats`. */
  readonly name: string;
  /** Where it is reached, where that means something (`nats://…`, the node address of `direct`). */
  readonly address: string;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  publish(topic: string, message: BrokerMessage): Promise<void>;
  subscribe(topic: string, handler: BrokerHandler, options?: BrokerSubscribeOptions): Promise<Subscription>;
}
