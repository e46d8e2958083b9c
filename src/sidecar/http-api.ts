/**
 * The sidecar's own HTTP routes, added to the gateway it runs (which serves everything else: `POST
 * /<service>/<method>` in Go Micro's path form, server streams as NDJSON or SSE, WebSocket streams):
 *
 * - `GET /health`: the sidecar itself, and whether its app is healthy;
 * - `GET /registry`, `GET /registry/<service>`: what the registry holds;
 * - `POST /registry`, `DELETE /registry`: serve (register) or stop serving (deregister) a service of the app;
 * - `POST /rpc` `{service, endpoint, request, metadata?, timeout?, address?}`: one call through discovery;
 * - `POST /broker/<topic>`: publish the JSON body (the request headers are its metadata, as in the gateway).
 *
 * Errors are the gateway's: `{id, code, detail, status}` with the same statuses.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { callUnary } from "../api/call.js";
import type { GatewayContext } from "../api/context.js";
import { headerMetadata, parseJsonBody, requireRequestObject } from "../api/request.js";
import type { Client } from "../runtime/client/index.js";
import { parseDuration } from "../runtime/config/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { describeJsonValue, isJsonObject } from "../runtime/errors/json-object.js";
import type { Metadata } from "../runtime/metadata/index.js";
import { isStringMap } from "../runtime/registry/records.js";
import type { Registry } from "../runtime/registry/index.js";
import { jsonTarget } from "../runtime/target/index.js";
import { SIDECAR_ID } from "./app-http.js";
import { parseDeclaration, type AppServices } from "./app-services.js";

export interface HttpApiDeps {
  client: Client;
  registry: Registry;
  /** Absent when the sidecar was started without `--app_address` (nothing to forward calls to). */
  services?: AppServices;
  appName?: string;
}

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ENDPOINT = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$/;
/** What a topic may hold (as `micro publish` checks it). */
export const TOPIC = /^[A-Za-z0-9_][A-Za-z0-9_.:*>-]*$/;

/** A JSON body that must be an object. @throws MicroError 400. */
function jsonObjectBody(req: FastifyRequest, example: string): Record<string, unknown> {
  const body = req.body as Buffer | undefined;
  if (!body || body.length === 0) throw MicroError.badRequest("micro.api", `${req.method} ${req.url} needs a JSON body: ${example}`);
  const value = parseJsonBody(body);
  if (!isJsonObject(value)) throw MicroError.badRequest("micro.api", `the body must be a JSON object (${example}), got ${describeJsonValue(value)}`);
  return value;
}

async function sendJson(reply: FastifyReply, value: unknown, code = 200): Promise<void> {
  await reply.code(code).type("application/json").send(JSON.stringify(value));
}

/** `timeout` of `/rpc`: milliseconds, or a duration such as `"5s"`. @throws MicroError 400. */
function timeoutOf(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = typeof value === "number" ? value : typeof value === "string" ? parseDuration(value, '"timeout"') : NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw MicroError.badRequest("micro.api", '"timeout" must be a positive number of milliseconds or a duration such as "5s"');
  return ms;
}

async function rpc(deps: HttpApiDeps, ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const body = jsonObjectBody(req, '{"service": "greeter", "endpoint": "Greeter.Hello", "request": {...}}');
  const { service, endpoint, address } = body;
  if (typeof service !== "string" || !SERVICE.test(service)) throw MicroError.badRequest("micro.api", '"service" must be a service name, e.g. "greeter"');
  if (typeof endpoint !== "string" || !ENDPOINT.test(endpoint)) throw MicroError.badRequest("micro.api", '"endpoint" must be an endpoint name, e.g. "Greeter.Hello"');
  if (body.metadata !== undefined && !isStringMap(body.metadata)) throw MicroError.badRequest("micro.api", '"metadata" must map strings to strings');
  if (address !== undefined && (typeof address !== "string" || address === "")) throw MicroError.badRequest("micro.api", '"address" must be host:port');
  const request = requireRequestObject(body.request ?? {});
  const timeout = timeoutOf(body.timeout, ctx.timeout);
  if (address === undefined) {
    const info = await ctx.routes.endpoint(service, endpoint);
    if (info && info.kind !== "unary") {
      throw MicroError.badRequest("micro.api", `${endpoint} is a ${info.kind.replace("_", " ")} endpoint: stream it over a WebSocket at /stream?service=${service}&endpoint=${endpoint}`);
    }
  }
  const metadata = (body.metadata ?? {}) as Metadata;
  const rsp = await callUnary({ ...ctx, timeout }, reply, jsonTarget(service, endpoint), request, metadata, "application/json", address as string | undefined);
  await sendJson(reply, rsp ?? null);
}

function services(deps: HttpApiDeps): AppServices {
  if (!deps.services) throw MicroError.badRequest(SIDECAR_ID, "this sidecar has no app to forward calls to: start it with --app_address");
  return deps.services;
}

/** Add the sidecar's routes to the gateway's server. */
export function addHttpApi(app: FastifyInstance, ctx: GatewayContext, deps: HttpApiDeps): void {
  app.get("/health", async (_req, reply) => {
    const appHealth = deps.services && deps.appName ? { app: { name: deps.appName, healthy: deps.services.isHealthy } } : {};
    await sendJson(reply, { status: "ok", ...appHealth });
  });
  app.get("/registry", async (_req, reply) => {
    await sendJson(reply, await deps.registry.listServices());
  });
  app.get<{ Params: { service: string } }>("/registry/:service", async (req, reply) => {
    const records = await deps.registry.getService(req.params.service);
    if (records.length === 0) throw MicroError.notFound("micro.api", `service ${req.params.service} is not registered`);
    await sendJson(reply, records);
  });
  app.post("/registry", async (req, reply) => {
    const declaration = parseDeclaration(jsonObjectBody(req, '{"name": "pyapp", "endpoints": ["Greeter.Hello"]}'));
    await sendJson(reply, await services(deps).serve(declaration));
  });
  app.delete("/registry", async (req, reply) => {
    const query = new URLSearchParams((req.raw.url ?? "").split("?")[1] ?? "");
    const body = req.body as Buffer | undefined;
    const name = body && body.length > 0 ? jsonObjectBody(req, '{"name": "pyapp"}').name : query.get("service");
    if (typeof name !== "string" || !SERVICE.test(name)) throw MicroError.badRequest(SIDECAR_ID, 'name the service: a body {"name": "pyapp"} or ?service=pyapp');
    if (!(await services(deps).remove(name))) throw MicroError.notFound(SIDECAR_ID, `service ${name} is not served by this sidecar`);
    await sendJson(reply, { deregistered: name });
  });
  app.post("/rpc", async (req, reply) => rpc(deps, ctx, req, reply));
  app.post<{ Params: { topic: string } }>("/broker/:topic", async (req, reply) => {
    const topic = req.params.topic;
    if (!TOPIC.test(topic)) throw MicroError.badRequest("micro.api", `topic "${topic}" may hold letters, digits and . _ - : only`);
    const body = req.body as Buffer | undefined;
    if (!body || body.length === 0) throw MicroError.badRequest("micro.api", "publish a JSON body: the message");
    const message = parseJsonBody(body);
    // As the gateway's event handler: the request headers travel as the message's metadata.
    await deps.client.publish(topic, message, { metadata: headerMetadata(req.headers) });
    await sendJson(reply, { published: topic });
  });
  app.get("/broker/:topic", async () => {
    throw new MicroError("micro.api", 426, "subscribe with a WebSocket: GET /broker/<topic>?queue=<group> with Upgrade: websocket", "Upgrade Required");
  });
}
