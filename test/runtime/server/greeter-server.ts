/** A greeter server on TCP with the given handlers, and a client for it (the router tests share this setup). */
import { cacheSelector, newClient, newServer, type RpcClient, type RpcServer } from "../../../src/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { Greeter } from "../../fixtures/runtime/greeter.js";

export interface GreeterServer {
  readonly server: RpcServer;
  readonly client: RpcClient;
  readonly address: string;
  stop(): Promise<void>;
}

export async function startGreeter(handlers: Record<string, unknown>): Promise<GreeterServer> {
  const registry = memoryRegistry();
  const server = newServer({ name: "greeter", deps: { registry, transport: tcpTransport(), broker: memoryBroker() } });
  server.handle(Greeter, handlers as never);
  await server.start();
  const client = newClient({ deps: { selector: cacheSelector({ registry }), transport: tcpTransport() } });
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
