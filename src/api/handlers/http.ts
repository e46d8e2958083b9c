/**
 * The `http` handler: a reverse proxy to services that serve plain HTTP and register a node whose metadata
 * says `protocol: http`. `/greeter/...` goes to service `[namespace.]greeter`, `/v1/greeter/...` to
 * `[namespace.]v1.greeter`; the path is forwarded unchanged.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { MicroError } from "../../runtime/errors/index.js";
import { logger } from "../../runtime/logger/index.js";
import { rejectUpgrade } from "../errors.js";
import type { NodeRecord } from "../../runtime/registry/index.js";
import { splitHostPort } from "../../runtime/transport/address.js";
import type { GatewayContext } from "../context.js";
import { splitUrl } from "../request.js";
import { pathSegments, SEGMENT, VERSION } from "../resolve.js";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate"]);

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

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

const log = logger("api");

async function pickNode(ctx: GatewayContext, service: string): Promise<NodeRecord> {
  const records = await ctx.registry.getService(service);
  const nodes = records.flatMap((r) => r.nodes).filter((n) => n.metadata?.protocol === "http");
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

export async function httpHandler(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const rawUrl = req.raw.url ?? "/";
  const path = splitUrl(rawUrl).path;
  const service = proxyService(pathSegments(path), ctx.namespace);
  await ctx.authorize?.(req.headers.authorization, service, `${req.method} ${path}`);
  const node = await pickNode(ctx, service);
  const { host, port } = nodeHostPort(node.address);
  const headers = filterHeaders(req.headers);
  const prior = req.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = prior ? `${prior}, ${req.ip}` : req.ip;
  headers["x-forwarded-host"] ??= req.headers.host;
  const body = req.body as Buffer | undefined;
  if (body) headers["content-length"] = String(body.length);

  const upstream = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
    const out = httpRequest({ host, port, method: req.method, path: rawUrl, headers, agent, timeout: ctx.timeout }, resolve);
    out.once("timeout", () => out.destroy(new MicroError("micro.api", 504, `${service} did not answer within ${ctx.timeout} ms`)));
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

/**
 * WebSocket (and other upgrade) passthrough for the http handler: the upgrade request goes to a node of the
 * resolved service as it came, then bytes flow both ways untouched until either side closes.
 */
export function proxyUpgrades(ctx: GatewayContext, server: Server): { close(): void } {
  const open = new Set<Duplex>();
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    void (async () => {
      try {
        const rawUrl = req.url ?? "/";
        const path = splitUrl(rawUrl).path;
        const service = proxyService(pathSegments(path), ctx.namespace);
        await ctx.authorize?.(req.headers.authorization, service, `${req.method} ${path}`);
        const node = await pickNode(ctx, service);
        const upstream = connect(nodeHostPort(node.address));
        open.add(socket);
        open.add(upstream);
        const lines = [`${req.method} ${rawUrl} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        lines.push(`X-Forwarded-For: ${req.socket.remoteAddress ?? ""}`);
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
  };
  server.on("upgrade", onUpgrade);
  return {
    close() {
      server.off("upgrade", onUpgrade);
      for (const s of open) s.destroy();
    },
  };
}
