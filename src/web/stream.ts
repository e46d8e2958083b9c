/**
 * `GET /api/stream?service=&endpoint=[&metadata=<json>][&csrf=]` as a WebSocket: one call of any kind,
 * with the gateway's frame protocol (src/api/websocket.ts, `serveStream`): server streams send their
 * responses as they arrive and stop when the socket closes; client and bidi streams take one frame per
 * message and an empty frame to end the requests. The kind comes from the registry.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { rejectUpgrade } from "../api/errors.js";
import { serveStream } from "../api/websocket.js";
import { MicroError } from "../runtime/errors/index.js";
import { logger } from "../runtime/logger/index.js";
import { lookupEndpointKind } from "../runtime/target/index.js";
import { metadataField, type ApiContext } from "./api.js";

const log = logger("web");

/** The stream endpoint's upgrade handler (the server routes `/api/stream` upgrades to it) and its shutdown. */
export interface StreamUpgrades {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): void;
  close(): void;
}

/** The stream endpoint; `maxBody` bounds one frame. */
export function streamUpgrades(ctx: ApiContext, maxBody: number): StreamUpgrades {
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBody });
  return {
    upgrade(req, socket, head, query) {
      void (async () => {
        try {
          ctx.guard.check(req.headers, true, query.get("csrf") ?? undefined);
          const service = query.get("service");
          const endpoint = query.get("endpoint");
          if (!service || !endpoint) throw MicroError.badRequest("micro.web", "name the call: /api/stream?service=<name>&endpoint=<Service.Method>");
          let metadata = {};
          const md = query.get("metadata");
          if (md) {
            try {
              metadata = metadataField(JSON.parse(md));
            } catch (error) {
              throw error instanceof MicroError ? error : MicroError.badRequest("micro.web", `metadata= is not JSON: ${(error as Error).message}`);
            }
          }
          const kind = await lookupEndpointKind(ctx.registry, service, endpoint, "micro.web", "`micro list services` shows what is");
          wss.handleUpgrade(req, socket, head, (ws) => {
            ws.on("error", (err) => log.info({ url: req.url, reason: err.message }, "websocket protocol error from the client; connection closed"));
            serveStream(ctx, ws, { service, endpoint, kind }, metadata);
          });
        } catch (error) {
          rejectUpgrade(socket, error);
        }
      })();
    },
    close() {
      for (const ws of wss.clients) ws.close(1001, "dashboard shutting down");
      wss.close();
    },
  };
}
