/** The transports the transport-agnostic runtime suites run over, by plugin name (not a test file). */
import type { Transport } from "../../src/runtime/transport/index.js";
import { tcpTransport } from "../../src/runtime/transport/tcp/index.js";
import { grpcTransport } from "../../src/runtime/transport/grpc/index.js";

/** Every transport the shared runtime cases run over (`--transport` names). */
export const TRANSPORTS = ["tcp", "grpc"] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** A new transport of that name with its defaults. */
export function makeTransport(name: TransportName): Transport {
  return name === "grpc" ? grpcTransport() : tcpTransport();
}
