/**
 * The dashboard's HTTP API, which its page uses and scripts may use too (README, "Web dashboard"):
 *
 * - `GET  /api/session` → `{csrf, auth}` (and the session cookie a browser's calls need)
 * - `GET  /api/services` → `[{name, versions, nodes, app?}]`
 * - `GET  /api/services/<name>` → the registry's records of the service (nodes, endpoints with fields)
 * - `GET  /api/health/<name>` → `[{id, address, version, status, error?}]` (Debug.Health per node)
 * - `POST /api/call` `{service, endpoint, request?, metadata?, timeout?}` → `{reply, ms}`, or the error
 *   `{error: {id, code, detail, status}, ms}` with its HTTP status
 * - `POST /api/publish` `{topic, message, metadata?}` → `{published}`
 * - `POST /api/console` `{line}` → `{output}` (the `micro` commands, console.ts)
 * - `GET  /api/watch/services`, `GET /api/watch/topic?topic=` → Server-Sent Events (watch.ts)
 * - `GET  /api/stream?service=&endpoint=[&metadata=<json>]` as a WebSocket → stream.ts
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { performance } from "node:perf_hooks";
import { disconnectSignal } from "../api/call.js";
import { httpStatus, toGatewayError } from "../api/errors.js";
import { parseJsonBody, requireRequestObject } from "../api/request.js";
import type { Broker } from "../runtime/broker/index.js";
import type { Client } from "../runtime/client/index.js";
import { parseDuration } from "../runtime/config/index.js";
import { MicroError } from "../runtime/errors/index.js";
import type { Metadata } from "../runtime/metadata/index.js";
import type { Registry } from "../runtime/registry/index.js";
import { checkHealth } from "../runtime/target/health.js";
import { jsonTarget } from "../runtime/target/index.js";
import type { Auth } from "./auth.js";
import { cookieValue, setCookie } from "./cookies.js";
import { runConsoleLine } from "./console.js";
import { SESSION_COOKIE, type Guard } from "./guard.js";
import { summarize } from "./services.js";
import { watchServices, watchTopic } from "./watch.js";

/** What the API handlers share. */
export interface ApiContext {
  readonly client: Client;
  readonly registry: Registry;
  readonly broker: Broker;
  readonly namespace: string;
  /** Default call timeout in milliseconds. */
  readonly timeout: number;
  readonly auth: Auth;
  readonly guard: Guard;
}

const bad = (detail: string): MicroError => MicroError.badRequest("micro.web", detail);

/** The JSON body of a POST as an object. */
function body(req: FastifyRequest): Record<string, unknown> {
  const raw = req.body as Buffer | undefined;
  if (!raw || raw.length === 0) throw bad("send a JSON object as the body");
  return requireRequestObject(parseJsonBody(raw));
}

function text(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw bad(`"${field}" must be a non-empty string`);
  return value;
}

/** `metadata`: an object of strings. */
export function metadataField(value: unknown): Metadata {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw bad(`"metadata" must be an object of strings, e.g. {"x-user": "ann"}`);
  const md: Metadata = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string" || /[\r\n]/.test(k + v)) throw bad(`metadata "${k}" must be a string without line breaks`);
    md[k.toLowerCase()] = v;
  }
  return md;
}

/** `timeout`: milliseconds or a duration (`5s`); absent: the dashboard's default. */
function timeoutField(value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  let ms: number;
  try {
    ms = parseDuration(String(value), "timeout");
  } catch {
    ms = NaN;
  }
  if (!(ms > 0)) throw bad(`"timeout" ${JSON.stringify(value)} must be a duration like 5s or 250ms, or milliseconds`);
  return ms;
}

/**
 * Answer with an error's HTTP status and its `{id, code, detail, status}` (the gateway's mapping), or, with
 * `extra`, `{error: {…}, ...extra}` (a call's error with its latency).
 */
export function sendError(reply: FastifyReply, error: unknown, extra: Record<string, unknown> = {}): void {
  const e = toGatewayError(error);
  void reply.code(httpStatus(e)).type("application/json").send(JSON.stringify(Object.keys(extra).length > 0 ? { error: e.toJSON(), ...extra } : e.toJSON()));
}

const rounded = (ms: number): number => Math.round(ms * 10) / 10;

/** Add the API's routes to `app`. */
export function apiRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get("/api/session", async (req, reply) => {
    let session = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (session === undefined || !/^[A-Za-z0-9_-]{16,64}$/.test(session)) {
      session = ctx.guard.newSession();
      reply.header("set-cookie", setCookie(SESSION_COOKIE, session));
    }
    reply.header("cache-control", "no-store");
    return { csrf: ctx.guard.csrfToken(session), auth: ctx.auth.kind };
  });

  app.get("/api/services", async () => summarize(await ctx.registry.listServices(), ctx.namespace));

  app.get<{ Params: { name: string } }>("/api/services/:name", async (req) => {
    const records = await ctx.registry.getService(req.params.name);
    if (records.length === 0) throw MicroError.notFound("micro.web", `service ${req.params.name} is not registered`);
    return records;
  });

  app.get<{ Params: { name: string } }>("/api/health/:name", async (req) => checkHealth(ctx.client, ctx.registry, req.params.name, Math.min(ctx.timeout, 5000)));

  app.post("/api/call", async (req, reply) => {
    ctx.guard.check(req.headers, true);
    const b = body(req);
    const service = text(b.service, "service");
    const endpoint = text(b.endpoint, "endpoint");
    const request = b.request === undefined ? {} : requireRequestObject(b.request);
    const options = { contentType: "application/json", metadata: metadataField(b.metadata), timeout: timeoutField(b.timeout, ctx.timeout), signal: disconnectSignal(reply) };
    const started = performance.now();
    try {
      const result = await ctx.client.call(jsonTarget(service, endpoint), request, options);
      return { reply: result, ms: rounded(performance.now() - started) };
    } catch (error) {
      sendError(reply, error, { ms: rounded(performance.now() - started) });
      return reply;
    }
  });

  app.post("/api/publish", async (req) => {
    ctx.guard.check(req.headers, true);
    const b = body(req);
    const topic = text(b.topic, "topic");
    if (!("message" in b)) throw bad(`"message" is missing: the JSON to publish`);
    await ctx.client.publish(topic, b.message, { metadata: metadataField(b.metadata) });
    return { published: topic };
  });

  app.post("/api/console", async (req) => {
    ctx.guard.check(req.headers, true);
    const line = body(req).line ?? "";
    if (typeof line !== "string") throw bad(`"line" must be a string: a micro command, e.g. "list services"`);
    return { output: await runConsoleLine({ client: ctx.client, registry: ctx.registry, timeout: ctx.timeout }, line) };
  });

  app.get("/api/watch/services", async (req, reply) => {
    ctx.guard.check(req.headers, false);
    reply.hijack();
    await watchServices(reply.raw, ctx.registry, ctx.namespace);
  });

  app.get<{ Querystring: { topic?: string } }>("/api/watch/topic", async (req, reply) => {
    ctx.guard.check(req.headers, true, (req.query as { csrf?: string }).csrf);
    const topic = text(req.query.topic, "topic");
    // Subscribe first so a refused topic is an ordinary error answer.
    reply.hijack();
    try {
      await watchTopic(reply.raw, ctx.broker, topic);
    } catch (error) {
      const e = toGatewayError(error);
      if (!reply.raw.headersSent) reply.raw.writeHead(httpStatus(e), { "content-type": "application/json" });
      reply.raw.end(JSON.stringify(e.toJSON()));
    }
  });
}
