/** Options of the direct broker. */
import { MicroError } from "../../errors/index.js";
import { positiveMs } from "../../internal/option-values.js";
import type { Registry } from "../../registry/index.js";
import type { Transport } from "../../transport/index.js";

/** The direct broker's error id. */
export const ID = "micro.broker.direct";

export interface DirectBrokerOptions {
  /** Where subscriptions are registered and looked up. */
  registry: Registry;
  /** Carries the deliveries. */
  transport: Transport;
  /** Listen address for deliveries (default `127.0.0.1:0`, a free port on loopback). */
  address?: string;
  /** Seconds a subscription stays registered without a heartbeat (default 90). */
  ttl?: number;
  /** Milliseconds between re-registrations (default a third of the TTL, at least 100). */
  registerInterval?: number;
  /** Milliseconds a subscriber's handler may take per message (default 10000). */
  publishTimeout?: number;
  /** Milliseconds a topic's subscriptions are cached by publishers (default 60000; the registry watch keeps them current). */
  cacheTtl?: number;
}

export interface ResolvedDirectOptions {
  readonly registry: Registry;
  readonly transport: Transport;
  readonly address: string;
  readonly ttl: number;
  readonly registerInterval: number;
  readonly publishTimeout: number;
  readonly cacheTtl: number;
}

/** @throws MicroError (400, `micro.broker.direct`) when the registry or transport is missing or a number is bad. */
export function resolveOptions(options: DirectBrokerOptions): ResolvedDirectOptions {
  if (!options?.registry || !options.transport) throw MicroError.badRequest(ID, "directBroker needs { registry, transport }");
  const ttl = options.ttl ?? 90;
  if (!Number.isFinite(ttl) || ttl <= 0) throw MicroError.badRequest(ID, `direct broker option ttl must be a positive number of seconds, got ${ttl}`);
  return {
    registry: options.registry,
    transport: options.transport,
    address: options.address && options.address !== "" ? options.address : "127.0.0.1:0",
    ttl,
    registerInterval: positiveMs(options.registerInterval, Math.max(100, (ttl * 1000) / 3), ID, "direct broker", "registerInterval"),
    publishTimeout: positiveMs(options.publishTimeout, 10_000, ID, "direct broker", "publishTimeout"),
    cacheTtl: positiveMs(options.cacheTtl, 60_000, ID, "direct broker", "cacheTtl"),
  };
}
