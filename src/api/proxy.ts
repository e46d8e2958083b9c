/**
 * The one reverse proxy to services that serve plain HTTP and register a node whose metadata says
 * `protocol: http`: `/greeter/...` goes to service `[namespace.]greeter`, `/v1/greeter/...` to
 * `[namespace.]v1.greeter`; the path is forwarded unchanged. HTTP requests and upgrades (WebSockets) both.
 * The gateway's `http` handler (handlers/http.ts) and the web dashboard's app proxy (`micro web`) use it.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { MicroError } from "../runtime/errors/index.js";
import { logger } from "../runtime/logger/index.js";
import type { Authorizer } from "../runtime/auth/index.js";
import type { NodeRecord, Registry } from "../runtime/registry/index.js";
import { splitHostPort } from "../runtime/transport/address.js";
import { rejectUpgrade } from "./errors.js";
import { splitUrl } from "./request.js";
import { pathSegments } from "./resolve.js";
import { SEGMENT, VERSION } from "../http/rpc-route.js";

/** What the proxy needs to find and reach a service. */
export interface ProxyOptions {
  readonly registry: Registry;
  /** Prefix of service names: `/greeter/...` goes to `<namespace>.greeter`. */
  readonly namespace: string;
  /** How long a backend may take to answer an HTTP request, in milliseconds. */
  readonly timeout: number;
  /**
   * Changes the headers forwarded upstream (after hop-by-hop headers are removed), e.g. to drop a credential
   * meant for the proxy itself. Absent: forwarded as they came.
   */
  readonly forwardHeaders?: (headers: OutgoingHttpHeaders) => OutgoingHttpHeaders;
  /**
   * Checks the caller's bearer token and the rules before anything is forwarded (the gateway's `--auth_*`):
   * the resource is the service, and `<METHOD> <path>` stands for the endpoint. Absent: no check.
   */
  readonly authorize?: Authorizer["authorize"];
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate"]);

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const log = logger("api");

/** The service an HTTP path is proxied to (Go Micro's proxy route). */
export function proxyService(segments: readonly string[], namespace: string): string {
  if (segments.length === 0) throw MicroError.notFound("micro.api", "no service in the path: use /<service>/...");
  const versioned = segments.length > 2 && VERSION.test(segments[0]!);
  const alias = versioned ? segments[1]! : segments[0]!;
  if (!SEGMENT.test(alias) || (versioned && !SEGMENT.test(segments[0]!))) throw MicroError.badRequest("micro.api", `invalid service name in path: ${JSON.stringify(alias)}`);
  const name = versioned ? `${segments[0]}.${alias}` : alias;
  return namespace ? `${namespace}.${name}` : name;
}

function filterHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = new Set(String(headers.connection ?? "").toLowerCase().split(",").map((s) => s.trim()));
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || connectionTokens.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Whether a node serves HTTP (node metadata `protocol: http`): what the proxy routes to. */
export function servesHttp(node: NodeRecord): boolean {
  return node.metadata?.protocol === "http";
}

async function pickNode(options: ProxyOptions, service: string): Promise<NodeRecord> {
  const records = await options.registry.getService(service);
  const nodes = records.flatMap((r) => r.nodes).filter(servesHttp);
  if (nodes.length === 0) throw MicroError.notFound("micro.api", `service ${service} has no node serving HTTP (node metadata protocol: http)`);
  return nodes[Math.floor(Math.random() * nodes.length)]!;
}

/** The 502 for a node that could not be reached. */
function unreachable(service: string, node: NodeRecord, error: Error): MicroError {
  return new MicroError("micro.api", 502, `cannot reach ${service} at ${node.address}: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
}

/** Where to connect for a node's `host:port` address. */
function nodeHostPort(address: string): { host: string; port: number } {
  const { host, port } = splitHostPort(address);
  return { host, port: Number(port) };
}

/** The upstream headers of a request: hop-by-hop removed, then `forwardHeaders`. */
function upstreamHeaders(options: ProxyOptions, headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const filtered = filterHeaders(headers);
  return options.forwardHeaders ? options.forwardHeaders(filtered) : filtered;
}

/** Proxy one HTTP request (its body already read by fastify as bytes) to a node of the service its path names. */
export async function proxyHttp(options: ProxyOptions, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const rawUrl = req.raw.url ?? "/";
  const path = splitUrl(rawUrl).path;
  const service = proxyService(pathSegments(path), options.namespace);
  await options.authorize?.(req.headers.authorization, service, `${req.method} ${path}`);
  const node = await pickNode(options, service);
  const { host, port } = nodeHostPort(node.address);
  const headers = upstreamHeaders(options, req.headers);
  const prior = req.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = prior ? `${prior}, ${req.ip}` : req.ip;
  headers["x-forwarded-host"] ??= req.headers.host;
  const body = req.body as Buffer | undefined;
  if (body) headers["content-length"] = String(body.length);

  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const out = httpRequest({ host, port, method: req.method, path: rawUrl, headers, agent, timeout: options.timeout }, resolve);
    out.once("timeout", () => out.destroy(new MicroError("micro.api", 504, `${service} did not answer within ${options.timeout} ms`)));
    out.once("error", (error) => {
      reject(error instanceof MicroError ? error : unreachable(service, node, error));
    });
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) out.destroy();
    });
    out.end(body);
  });
  reply.code(upstream.statusCode ?? 502);
  for (const [k, v] of Object.entries(filterHeaders(upstream.headers))) {
    if (v !== undefined && k !== "content-length") reply.header(k, v);
  }
  await reply.send(upstream);
}

/** Upgrade passthrough; `close` cuts every proxied connection. */
export interface UpgradeProxy {
  /** Proxy one upgrade request (a server's `upgrade` event). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/**
 * WebSocket (and other upgrade) passthrough: the upgrade request goes to a node of the resolved service
 * (headers as `forwardHeaders` leaves them), then bytes flow both ways untouched until either side closes.
 */
export function upgradeProxy(options: ProxyOptions): UpgradeProxy {
  const open = new Set<Duplex>();
  return {
    upgrade(req, socket, head) {
      socket.on("error", () => socket.destroy());
      void (async () => {
        try {
          const rawUrl = req.url ?? "/";
          const path = splitUrl(rawUrl).path;
          const service = proxyService(pathSegments(path), options.namespace);
          await options.authorize?.(req.headers.authorization, service, `${req.method} ${path}`);
          const node = await pickNode(options, service);
          const upstream = connect(nodeHostPort(node.address));
          open.add(socket);
          open.add(upstream);
          // Upgrade requests keep their Connection/Upgrade headers (the hop-by-hop filter is for plain requests).
          const headers: OutgoingHttpHeaders = { ...upstreamHeaders(options, req.headers), connection: req.headers.connection, upgrade: req.headers.upgrade };
          headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
          const lines = [`${req.method} ${rawUrl} HTTP/1.1`];
          for (const [k, v] of Object.entries(headers)) {
            if (v === undefined) continue;
            for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${String(one)}`);
          }
          let connected = false;
          upstream.once("connect", () => {
            connected = true;
            upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
            if (head.length > 0) upstream.write(head);
            upstream.pipe(socket);
            socket.pipe(upstream);
          });
          const end = (): void => {
            open.delete(socket);
            open.delete(upstream);
            socket.destroy();
            upstream.destroy();
          };
          upstream.once("error", (error) => {
            if (!connected) rejectUpgrade(socket, unreachable(service, node, error));
            end();
          });
          upstream.once("close", end);
          socket.once("close", end);
          log.info({ method: "UPGRADE", url: rawUrl, service, node: node.address }, "request");
        } catch (error) {
          rejectUpgrade(socket, error);
        }
      })();
    },
    close() {
      for (const s of open) s.destroy();
    },
  };
}
