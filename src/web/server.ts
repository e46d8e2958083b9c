/**
 * `micro web`: the dashboard (its page, its HTTP API) and the proxy to web apps, on one fastify server.
 * `/`, `/assets/…` and `/api/…` are the dashboard's; every other path `/<name>/…` is proxied (HTTP and
 * WebSockets, src/api/proxy.ts, the gateway's `http` handler's implementation) to the service
 * `<namespace>.<name>` whose nodes serve HTTP. With auth, every request needs the credential, and the
 * credential is not forwarded to the apps.
 */
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { rejectUpgrade } from "../api/errors.js";
import { parseListenAddress } from "../api/gateway.js";
import { proxyHttp, upgradeProxy, type ProxyOptions } from "../api/proxy.js";
import type { Broker } from "../runtime/broker/index.js";
import type { Client } from "../runtime/client/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { logger } from "../runtime/logger/index.js";
import type { Registry } from "../runtime/registry/index.js";
import { formatAddress, formatAddressRange, listenInRange } from "../runtime/transport/address.js";
import { apiRoutes, sendError, type ApiContext } from "./api.js";
import { loadAssets, SECURITY_HEADERS, UI_DIR } from "./assets.js";
import { newAuth, TOKEN_COOKIE, type Auth, type AuthOptions } from "./auth.js";
import { dropCookies, setCookie } from "./cookies.js";
import { newGuard, SESSION_COOKIE } from "./guard.js";
import { streamUpgrades } from "./stream.js";

/** Default listen address of `micro web`. */
export const DEFAULT_WEB_ADDRESS = "127.0.0.1:8082";
/** Default namespace of web apps (Go Micro's `go.micro.web`). */
export const DEFAULT_WEB_NAMESPACE = "web";

/** Options of {@link newWebDashboard}. */
export interface WebOptions {
  client: Client;
  registry: Registry;
  /** Topic watches subscribe with it. */
  broker: Broker;
  /** `host:port`; default {@link DEFAULT_WEB_ADDRESS}. Port 0 picks a free port. */
  address?: string;
  /** Web apps are `<namespace>.<name>`, proxied at `/<name>/`; default {@link DEFAULT_WEB_NAMESPACE}. */
  namespace?: string;
  /** Who may use it; default none. */
  auth?: AuthOptions;
  /** Call timeout in milliseconds (default 10 000), also the apps' answer timeout. */
  timeout?: number;
  /** Largest request body and stream frame in bytes (default 1 MiB). */
  maxBody?: number;
  /** Where the bundled page is (default: beside this module, dist/web/ui/dist). */
  assetsDir?: string;
}

/** A running (or startable) dashboard. */
export interface WebDashboard {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The bound `host:port` once started. */
  readonly address: string;
  /** `http://host:port` once started. */
  readonly url: string;
  readonly auth: Auth;
}

const log = logger("web");

/** Whether a listen host is a loopback address. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** The dashboard's own paths: everything else is a web app. */
function isDashboardPath(path: string): boolean {
  return path === "/" || path.startsWith("/assets/") || path === "/api" || path.startsWith("/api/") || path === "/favicon.ico";
}

/** Create the dashboard (not yet listening). @throws MicroError 400 for a bad address or auth */
export function newWebDashboard(options: WebOptions): WebDashboard {
  const range = parseListenAddress(options.address ?? DEFAULT_WEB_ADDRESS);
  const host = range.host;
  const auth = newAuth(options.auth);
  const guard = newGuard(isLoopbackHost(host));
  const timeout = options.timeout ?? 10_000;
  const maxBody = options.maxBody ?? 1024 * 1024;
  const assets = loadAssets(options.assetsDir ?? UI_DIR);
  const ctx: ApiContext = { client: options.client, registry: options.registry, broker: options.broker, namespace: options.namespace ?? DEFAULT_WEB_NAMESPACE, timeout, auth, guard };
  // The apps never see the dashboard's credential nor its session.
  const proxy: ProxyOptions = { registry: options.registry, namespace: ctx.namespace, timeout, forwardHeaders: (h) => dropCookies(auth.strip(h), [SESSION_COOKIE]) };
  const apps = upgradeProxy(proxy);
  const streams = streamUpgrades(ctx, maxBody);

  const app = Fastify({ logger: false, bodyLimit: maxBody, forceCloseConnections: true, requestTimeout: 60_000 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: maxBody }, (_req, body, done) => done(null, body));
  app.setErrorHandler((error, _req, reply) => sendError(reply, error));

  // Authentication first, for every path (the apps behind the dashboard too).
  app.addHook("onRequest", (req, reply, done) => {
    const path = (req.raw.url ?? "/").split("?", 1)[0]!;
    if (isDashboardPath(path)) for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    try {
      guard.checkHost(req.headers);
    } catch (error) {
      return sendError(reply, error);
    }
    if (auth.allows(req.headers)) return done();
    const query = new URLSearchParams((req.raw.url ?? "").split("?")[1] ?? "");
    if (path === "/" && auth.acceptsQueryToken(query.get("token") ?? undefined)) {
      // A browser opened the printed link: keep the token in a cookie and drop it from the address bar.
      void reply.code(303).header("set-cookie", setCookie(TOKEN_COOKIE, auth.token!)).header("location", "/").send();
      return;
    }
    for (const [k, v] of Object.entries(auth.challenge())) reply.header(k, v);
    sendError(reply, new MicroError("micro.web", 401, auth.kind === "token" ? "this dashboard needs its token: Authorization: Bearer <token>, or open /?token=<token>" : "this dashboard needs a user and password"));
  });

  const sendAsset = (req: FastifyRequest, reply: FastifyReply): void => {
    const asset = assets.get((req.raw.url ?? "/").split("?", 1)[0]!)!;
    reply.type(asset.type).header("cache-control", "no-cache").header("vary", "Accept-Encoding");
    if (/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) void reply.header("content-encoding", "gzip").send(asset.gzip);
    else void reply.send(asset.body);
  };
  app.get("/", sendAsset);
  app.get("/assets/app.js", sendAsset);
  app.get("/assets/app.css", sendAsset);
  apiRoutes(app, ctx);
  app.all("/api/*", async () => {
    throw MicroError.notFound("micro.web", "no such API: see README, Web dashboard");
  });
  app.all("*", async (req, reply) => {
    await proxyHttp(proxy, req, reply);
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    const [path, q] = (req.url ?? "/").split("?", 2) as [string, string | undefined];
    try {
      guard.checkHost(req.headers);
    } catch (error) {
      return rejectUpgrade(socket, error);
    }
    if (!auth.allows(req.headers)) return rejectUpgrade(socket, new MicroError("micro.web", 401, "this dashboard needs its credential"));
    if (path === "/api/stream") return streams.upgrade(req, socket, head, new URLSearchParams(q ?? ""));
    if (isDashboardPath(path)) return rejectUpgrade(socket, MicroError.notFound("micro.web", `no WebSocket at ${path}`));
    apps.upgrade(req, socket, head);
  };

  let bound = "";
  return {
    auth,
    async start() {
      app.server.on("upgrade", onUpgrade);
      await listenInRange(formatAddressRange(range), (h, port) => app.listen({ host: h, port }), "micro.web");
      const a = app.server.address() as AddressInfo;
      bound = formatAddress(a.address, a.port);
      log.info({ address: bound, namespace: ctx.namespace, auth: auth.kind }, "web dashboard listening");
    },
    async stop() {
      app.server.off("upgrade", onUpgrade);
      streams.close();
      apps.close();
      await app.close();
    },
    get address() {
      return bound;
    },
    get url() {
      return `http://${bound}`;
    },
  };
}
