/**
 * One `connect()` per broker, shared by the client (publish) and the server (subscribe) of a process.
 */
import type { Broker } from "./index.js";

const connecting = new WeakMap<Broker, Promise<void>>();
const connected = new WeakSet<Broker>();

/**
 * Whether this process connected the broker through {@link connectBroker}: `unused` (never asked to),
 * `connecting`, or `connected` (until {@link disconnectBroker}). Readiness probes read it.
 */
export function brokerState(broker: Broker): "unused" | "connecting" | "connected" {
  return connected.has(broker) ? "connected" : connecting.has(broker) ? "connecting" : "unused";
}

/** Connect the broker once; later callers share the first attempt (a failed one is retried next time). */
export function connectBroker(broker: Broker): Promise<void> {
  let p = connecting.get(broker);
  if (p === undefined) {
    p = broker.connect().then(
      () => void connected.add(broker),
      (error: unknown) => {
        connecting.delete(broker);
        throw error;
      },
    );
    connecting.set(broker, p);
  }
  return p;
}

/** Disconnect a broker connected through {@link connectBroker} (no-op if it never was). */
export async function disconnectBroker(broker: Broker): Promise<void> {
  const p = connecting.get(broker);
  if (p === undefined) return;
  connecting.delete(broker);
  connected.delete(broker);
  await p.catch(() => undefined);
  await broker.disconnect();
}
