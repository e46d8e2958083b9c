/**
 * The `http` handler: the gateway as a reverse proxy to services that serve plain HTTP (node metadata
 * `protocol: http`). The proxy itself is ../proxy.ts, which `micro web` shares.
 */
import type { Server } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GatewayContext } from "../context.js";
import { proxyHttp, upgradeProxy } from "../proxy.js";

export async function httpHandler(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  await proxyHttp(ctx, req, reply);
}

/** WebSocket (and other upgrade) passthrough for the http handler, attached to the gateway's server. */
export function proxyUpgrades(ctx: GatewayContext, server: Server): { close(): void } {
  const proxy = upgradeProxy(ctx);
  server.on("upgrade", proxy.upgrade);
  return {
    close() {
      server.off("upgrade", proxy.upgrade);
      proxy.close();
    },
  };
}
