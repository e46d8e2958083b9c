/**
 * The HTTP API gateway (`micro api`), on fastify: resolves paths and `google.api.http` routes to services
 * found in the registry, calls them through the runtime client, streams over WebSocket and SSE, and maps
 * errors to HTTP statuses. Start it in-process with {@link newGateway}.
 */
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Client } from "../runtime/client/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { logger } from "../runtime/logger/index.js";
import type { Registry } from "../runtime/registry/index.js";
import { formatAddress, formatAddressRange, listenInRange, parseAddressRange, type HostPortRange } from "../runtime/transport/address.js";
import { limitSlowClients, type BackpressureOptions } from "./backpressure.js";
import type { GatewayContext } from "./context.js";
import { httpStatus, MethodNotAllowed, toGatewayError } from "./errors.js";
import { apiHandler } from "./handlers/api.js";
import { eventHandler } from "./handlers/event.js";
import { httpHandler, proxyUpgrades } from "./handlers/http.js";
import { rpcHandler } from "./handlers/rpc.js";
import { RouteTable, type Route } from "./routes.js";
import { TargetCache } from "./target-cache.js";
import { traceRequest } from "./tracing.js";
import { gatewayOpenApi } from "./openapi.js";
import { websocketUpgrades } from "./websocket.js";
import { newAuthorizer, type AuthOptions } from "../runtime/auth/index.js";
import { authorizingClient } from "./auth.js";
import { httpMetrics } from "./metrics.js";
import type { MetricsOptions } from "../runtime/metrics/index.js";

/** How the gateway treats requests (`--handler`). */
export type HandlerKind = "rpc" | "api" | "http" | "event";
export const handlerKinds: readonly HandlerKind[] = ["rpc", "api", "http", "event"];

export interface GatewayOptions {
  /** Calls the services (and publishes events). */
  client: Client;
  /** Where services, endpoints and http rules are looked up. */
  registry: Registry;
  /** `host:port` to listen on; `:8080` (all interfaces) by default. Port 0 picks a free port. */
  address?: string;
  /** Prefix of service names: `/greeter/hello` calls `<namespace>.greeter`. Empty by default. */
  namespace?: string;
  /** `rpc` (default), `api`, `http` or `event`. */
  handler?: HandlerKind;
  /** Allow cross-origin requests: `true` for any origin, or a list of allowed origins. */
  cors?: boolean | readonly string[];
  /** Backend call timeout in milliseconds (default 10 000). */
  timeout?: number;
  /** Largest accepted request body in bytes (default 1 MiB). */
  maxBody?: number;
  /** Full route refresh period in milliseconds (default 30 000); the registry watch keeps routes current between refreshes. */
  refreshInterval?: number;
  /** Per-connection limits for clients that pipeline requests and do not read (see backpressure.ts for the defaults). */
  backpressure?: BackpressureOptions;
  /**
   * An OpenTelemetry SERVER span per HTTP request (default false), parent of the backend call's span when the
   * client has `tracingClientWrapper()`. `@opentelemetry/api` is loaded at the first request.
   */
  tracing?: boolean;
  /** Check a bearer token (and the rules) before every call; off by default. See `authHandlerWrapper` for the options. */
  auth?: AuthOptions;
  /** Record HTTP metrics (`true`: in prom-client's global registry); serve them with `serveMetrics`. Off by default. */
  metrics?: boolean | MetricsOptions;
  /**
   * More routes and WebSocket upgrades on the same server, served before the handler's own (what `micro
   * sidecar` adds: `/registry`, `/broker`, …). None by default.
   */
  extend?: GatewayExtension;
}

/** Routes and upgrades added to a gateway (see {@link GatewayOptions.extend}). */
export interface GatewayExtension {
  /** Register routes on the gateway's fastify instance; they win over the handler's catch-all route. */
  routes?(app: FastifyInstance, ctx: GatewayContext): void;
  /** Take an upgrade request before the gateway's WebSocket streams do; return true when it was taken. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

export interface Gateway {
  /** Listen and load routes. */
  start(): Promise<void>;
  /** Stop accepting, finish in-flight requests, close streams. */
  stop(): Promise<void>;
  /** The bound `host:port` once started. */
  readonly address: string;
  /** `http://host:port` once started. */
  readonly url: string;
  /** The routes declared by http rules, as currently known. */
  routes(): readonly Route[];
  /** Re-read every service from the registry now. */
  refresh(): Promise<void>;
  /** Resolves after the routes are next rebuilt (a registry change or a refresh). */
  nextRoutesUpdate(): Promise<void>;
}

const log = logger("api");

/**
 * Split `host:port`, `[v6]:port`, `:port` (every interface: 0.0.0.0) or a port range `host:8000-8010`
 * (the gateway listens on the first free port of it); `first === last` for a single port.
 * @throws MicroError (400, `micro.api`) saying what is wrong.
 */
export function parseListenAddress(address: string): HostPortRange {
  const range = parseAddressRange(address.trim(), "micro.api");
  return { ...range, host: range.host || "0.0.0.0" };
}

/** Answer with the error as `{id, code, detail, status}` and its HTTP status (unexpected errors are logged, never shown). */
export function sendError(reply: FastifyReply, error: unknown): void {
  const e = toGatewayError(error);
  if (!(error instanceof MicroError) && httpStatus(e) >= 500) log.error({ err: error }, "unexpected gateway error");
  if (e instanceof MethodNotAllowed) reply.header("allow", e.allow.join(", "));
  if (e.code === 401) reply.header("www-authenticate", "Bearer");
  void reply.code(httpStatus(e)).type("application/json").send(JSON.stringify(e.toJSON()));
}

/** The HTTP parser's failures (`clientError`) as a `{id, code, detail, status}` response, then the socket closes. */
function writeClientError(err: Error & { code?: string }, socket: import("node:net").Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [code, detail] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "the request was not received in time"]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "the request headers are too large"]
        : [400, `malformed HTTP request${err.code ? ` (${err.code})` : ""}`];
  const e = new MicroError("micro.api", code, detail, code === 431 ? "Request Header Fields Too Large" : undefined);
  const body = JSON.stringify(e.toJSON());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${code} ${e.status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function applyCors(cors: true | readonly string[], req: FastifyRequest, reply: FastifyReply): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  const allowed = cors === true || cors.includes(origin);
  if (!allowed) return false;
  reply.header("access-control-allow-origin", cors === true ? "*" : origin).header("vary", "Origin");
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
    reply
      .header("access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
      .header("access-control-allow-headers", req.headers["access-control-request-headers"] ?? "content-type, authorization")
      .header("access-control-max-age", "600");
    void reply.code(204).send();
    return true;
  }
  return false;
}

/** Create a gateway (not yet listening). */
export function newGateway(options: GatewayOptions): Gateway {
  const handler = options.handler ?? "rpc";
  if (!handlerKinds.includes(handler)) throw MicroError.badRequest("micro.api", `unknown handler "${handler}"; use one of: ${handlerKinds.join(", ")}`);
  const maxBody = options.maxBody ?? 1024 * 1024;
  const routes = new RouteTable(options.registry, { refreshInterval: options.refreshInterval });
  const authorizer = options.auth ? newAuthorizer(options.auth) : undefined;
  const ctx: GatewayContext = {
    client: authorizer ? authorizingClient(options.client, authorizer) : options.client,
    ...(authorizer ? { authorize: (authorization: string | undefined, service: string, endpoint: string) => authorizer.authorize(authorization, service, endpoint) } : {}),
    registry: options.registry,
    routes,
    targets: new TargetCache(routes),
    namespace: options.namespace ?? "",
    timeout: options.timeout ?? 10_000,
    maxBody,
  };
  const cors = options.cors === true ? true : Array.isArray(options.cors) && options.cors.length > 0 ? (options.cors as readonly string[]) : undefined;
  const handle = { rpc: rpcHandler, api: apiHandler, http: httpHandler, event: eventHandler }[handler];

  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: maxBody,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // A client must finish sending its request within a minute (slow-request protection; streams are not affected).
    requestTimeout: 60_000,
    // Errors fastify raises before routing (a bad URL, a malformed header) get the same JSON body.
    frameworkErrors: (error, _req, reply) => sendError(reply, new MicroError("micro.api", 400, error.message)),
    // Requests node's HTTP parser rejects (malformed request line or headers, bad content length, garbage,
    // oversized headers, a request that took too long) never reach fastify: answer them in the same shape.
    clientErrorHandler: (err, socket) => writeClientError(err, socket),
  });
  limitSlowClients(app.server, options.backpressure);
  // Every body arrives as bytes; the handlers decide what a content type means (415 when nothing fits).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: maxBody }, (_req, body, done) => done(null, body));
  app.setErrorHandler((error, _req, reply) => sendError(reply, error));
  app.setNotFoundHandler((_req, reply) => sendError(reply, MicroError.notFound("micro.api", "not found")));
  let closing = false;
  // While draining, every response closes its connection, so keep-alive clients cannot hold the stop open.
  // Callback-style hooks: no promise per request on the hot path.
  app.addHook("onSend", (_req, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });
  const record = options.metrics ? httpMetrics(options.metrics === true ? {} : options.metrics, ctx.targets) : undefined;
  app.addHook("onResponse", (req, reply, done) => {
    record?.(req, reply);
    // Checked first: building the entry (req.ip, elapsedTime) costs even when the level drops it.
    if (log.isLevelEnabled("info")) log.info({ method: req.method, url: req.raw.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, remote: req.ip }, "request");
    done();
  });
  if (handler === "rpc") {
    // The document of every route, from the registry, for Swagger UI and client generators.
    app.get("/openapi.json", async (req, reply) => {
      if (cors && applyCors(cors, req, reply)) return;
      await reply.type("application/json").send(JSON.stringify(gatewayOpenApi(routes.records(), ctx.namespace)));
    });
  }
  options.extend?.routes?.(app, ctx);
  const tracing = options.tracing === true;
  app.all("*", async (req, reply) => {
    if (cors && applyCors(cors, req, reply)) return;
    if (tracing) return traceRequest(req, reply, () => handle(ctx, req, reply));
    await handle(ctx, req, reply);
  });

  let ws: { close(): void } | undefined;
  const extraUpgrade = options.extend?.upgrade;
  const taken = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => extraUpgrade?.(req, socket, head) ?? false;
  let bound = "";
  return {
    async start() {
      const listenAddress = formatAddressRange(parseListenAddress(options.address ?? ":8080"));
      await routes.start();
      if (handler === "rpc") ws = websocketUpgrades(ctx, app.server, taken);
      else if (handler === "http") ws = proxyUpgrades(ctx, app.server);
      await listenInRange(listenAddress, (host, port) => app.listen({ host, port }), "micro.api");
      const a = app.server.address() as AddressInfo;
      bound = formatAddress(a.address, a.port);
      log.info({ address: bound, handler, namespace: ctx.namespace }, "gateway listening");
    },
    async stop() {
      closing = true;
      routes.stop();
      ws?.close();
      // In-flight requests get up to the backend timeout (plus a little) to finish; then connections are cut.
      const force = setTimeout(() => app.server.closeAllConnections(), ctx.timeout + 1000);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
    },
    get address() {
      return bound;
    },
    get url() {
      return `http://${bound}`;
    },
    routes: () => routes.list(),
    refresh: () => routes.refreshAll(),
    nextRoutesUpdate: () => routes.nextUpdate(),
  };
}
