/**
 * `micro sidecar` as a library: a gateway (rpc handler) with the sidecar's HTTP API on the same server
 * (http-api.ts, pubsub.ts, `/stream`), the app's services served into the micro world (app-services.ts),
 * health checking of the app (health-check.ts) and `--app_subscribe` deliveries.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { GatewayContext } from "../api/context.js";
import { rejectUpgrade } from "../api/errors.js";
import { newGateway, type Gateway } from "../api/gateway.js";
import { headerMetadata } from "../api/request.js";
import { serveStream } from "../api/websocket.js";
import type { Broker, Subscription } from "../runtime/broker/index.js";
import type { Client } from "../runtime/client/index.js";
import type { MethodKind } from "../runtime/definition/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { logger } from "../runtime/logger/index.js";
import type { Registry } from "../runtime/registry/index.js";
import type { Transport } from "../runtime/transport/index.js";
import { appBaseUrl, SIDECAR_ID } from "./app-http.js";
import { AppServices, type EndpointDeclaration } from "./app-services.js";
import { startHealthCheck, type HealthCheck } from "./health-check.js";
import { addHttpApi } from "./http-api.js";
import { brokerUpgrade, subscribeApp, type AppSubscription } from "./pubsub.js";

const log = logger("sidecar");

export interface SidecarOptions {
  client: Client;
  registry: Registry;
  transport: Transport;
  broker: Broker;
  /** HTTP API address, `host:port` (default `127.0.0.1:8081`; port 0 picks a free one). */
  address?: string;
  /** The app's service name; with it the sidecar registers the app at start. */
  appName?: string;
  /** The app's version in the registry (default `latest`). */
  appVersion?: string;
  /** Where the app serves HTTP: `host:port` or `http://host:port`. Calls to its services are POSTed there. */
  appAddress?: string;
  /** The app's health URL, e.g. `http://127.0.0.1:5000/health`; without it the app counts as always healthy. */
  appHealth?: string;
  /** Endpoints the app serves, e.g. `Greeter.Hello` (registered with `appName`). None by default. */
  appEndpoints?: readonly (string | EndpointDeclaration)[];
  /** Topics whose messages are POSTed to the app. None by default. */
  appSubscribe?: readonly AppSubscription[];
  /** Milliseconds between health checks (default 5000). */
  healthInterval?: number;
  /** Milliseconds the app gets to answer a call or a delivery (default 10 000). */
  appTimeout?: number;
  /** Timeout of calls made through the HTTP API in milliseconds (default 10 000). */
  timeout?: number;
  /** Transport listen address of the app's services (default `127.0.0.1:0`). */
  serverAddress?: string;
  /** Address published for the app's services (default: the bound one). */
  advertise?: string;
  /** Registration TTL in seconds (default 90). */
  registerTTL?: number;
  /** Seconds between registration renewals (default 30). */
  registerInterval?: number;
}

export interface Sidecar {
  start(): Promise<void>;
  /** Deregister the app, end subscriptions, stop the HTTP server. */
  stop(): Promise<void>;
  /** `host:port` of the HTTP API once started. */
  readonly address: string;
  readonly url: string;
  /** The app's services (undefined without an app address). */
  readonly services: AppServices | undefined;
}

const KINDS: Record<string, MethodKind> = { unary: "unary", server: "server_streaming", client: "client_streaming", bidi: "bidi_streaming", server_streaming: "server_streaming", client_streaming: "client_streaming", bidi_streaming: "bidi_streaming" };

/** `GET /stream?service=&endpoint=[&kind=]` upgraded: one call of any kind with the gateway's WebSocket protocol. */
async function streamUpgrade(ctx: GatewayContext, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const q = new URL(req.url ?? "/", "http://sidecar").searchParams;
  const service = q.get("service") ?? "";
  const endpoint = q.get("endpoint") ?? "";
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(service) || !/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$/.test(endpoint)) {
    throw MicroError.badRequest("micro.api", "/stream needs ?service=<name>&endpoint=<Service.Method>[&kind=server|client|bidi]");
  }
  const kindText = q.get("kind");
  let kind: MethodKind | undefined = kindText ? KINDS[kindText] : undefined;
  if (kindText && !kind) throw MicroError.badRequest("micro.api", `kind "${kindText}": use unary, server, client or bidi`);
  if (!kind) {
    const info = await ctx.routes.endpoint(service, endpoint);
    if (!info) throw MicroError.notFound("micro.api", `service ${service} has no endpoint ${endpoint} in the registry (or pass &kind=)`);
    kind = info.kind;
  }
  const target = { service, endpoint, kind };
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on("error", (err) => log.info({ url: req.url, reason: err.message }, "websocket protocol error from the client; connection closed"));
    serveStream(ctx, ws, target, headerMetadata(req.headers));
  });
}

/** Create a sidecar (not yet listening). @throws MicroError 400 for a bad app address. */
export function newSidecar(options: SidecarOptions): Sidecar {
  const appUrl = options.appAddress ? appBaseUrl(options.appAddress) : undefined;
  if (options.appName && !appUrl) throw MicroError.badRequest(SIDECAR_ID, "--app_name needs --app_address: where the app serves HTTP");
  if ((options.appSubscribe?.length ?? 0) > 0 && !appUrl) throw MicroError.badRequest(SIDECAR_ID, "--app_subscribe needs --app_address: where the app serves HTTP");
  const appTimeout = options.appTimeout ?? 10_000;
  const services = appUrl
    ? new AppServices({
        registry: options.registry,
        transport: options.transport,
        broker: options.broker,
        appUrl,
        appTimeout,
        listenAddress: options.serverAddress,
        advertise: options.advertise,
        ttl: options.registerTTL ?? 90,
        interval: options.registerInterval ?? 30,
      })
    : undefined;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  let ctx: GatewayContext | undefined;
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (brokerUpgrade(wss, options.broker, req, socket, head)) return true;
    if (!/^\/stream(\?|$)/.test(req.url ?? "")) return false;
    socket.on("error", () => socket.destroy());
    streamUpgrade(ctx!, wss, req, socket, head).catch((error: unknown) => rejectUpgrade(socket, error));
    return true;
  };
  const gateway: Gateway = newGateway({
    client: options.client,
    registry: options.registry,
    address: options.address ?? "127.0.0.1:8081",
    handler: "rpc",
    timeout: options.timeout,
    extend: {
      routes(app, gatewayCtx) {
        ctx = gatewayCtx;
        addHttpApi(app, gatewayCtx, { client: options.client, registry: options.registry, services, appName: options.appName });
      },
      upgrade,
    },
  });
  let health: HealthCheck | undefined;
  let subscriptions: Subscription[] = [];
  return {
    async start() {
      await gateway.start();
      if (services && options.appHealth) await services.setHealthy(false);
      if (services && options.appName) {
        const endpoints = (options.appEndpoints ?? []).map((e) => (typeof e === "string" ? { name: e } : e));
        await services.serve({ name: options.appName, version: options.appVersion, endpoints });
      }
      if (services && options.appHealth) {
        health = startHealthCheck(options.appHealth, options.healthInterval ?? 5000, (ok) => services.setHealthy(ok));
      }
      if (appUrl) subscriptions = await subscribeApp(options.broker, options.appSubscribe ?? [], { url: appUrl, name: options.appName ?? "app", timeout: appTimeout, queue: options.appName });
      log.info({ address: gateway.address, app: options.appName, appAddress: appUrl }, "sidecar listening");
    },
    async stop() {
      health?.stop();
      for (const s of subscriptions) await s.unsubscribe().catch((err: unknown) => log.warn({ err, topic: s.topic }, "unsubscribing the app failed"));
      subscriptions = [];
      for (const ws of wss.clients) ws.close(1001, "sidecar shutting down");
      await services?.stop();
      await gateway.stop();
      wss.close();
    },
    get address() {
      return gateway.address;
    },
    get url() {
      return gateway.url;
    },
    services,
  };
}
