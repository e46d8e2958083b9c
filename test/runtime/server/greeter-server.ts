/** A greeter server on a transport (tcp by default) with the given handlers, and a client for it (the router tests share this setup). */
import { cacheSelector, newClient, newServer, type RpcClient, type RpcServer } from "../../../src/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import { makeTransport, type TransportName } from "../../support/transports.js";
import { Greeter } from "../../fixtures/runtime/greeter.js";

export interface GreeterServer {
  readonly server: RpcServer;
  readonly client: RpcClient;
  readonly address: string;
  stop(): Promise<void>;
}

export async function startGreeter(handlers: Record<string, unknown>, transport: TransportName = "tcp"): Promise<GreeterServer> {
  const registry = memoryRegistry();
  const server = newServer({ name: "greeter", deps: { registry, transport: makeTransport(transport), broker: memoryBroker() } });
  server.handle(Greeter, handlers as never);
  await server.start();
  const client = newClient({ deps: { selector: cacheSelector({ registry }), transport: makeTransport(transport) } });
  return {
    server,
    client,
    address: server.address!,
    async stop() {
      client.close();
      await server.stop();
      await registry.close();
    },
  };
}
