/**
 * The `rpc` handler: a JSON (or protobuf) body becomes an RPC to the resolved service endpoint; the reply
 * comes back as JSON. Server streams answer as Server-Sent Events (`Accept: text/event-stream`) or NDJSON.
 * `POST /rpc` takes `{ service, endpoint, request }` (JSON or form fields).
 */
import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Metadata } from "../../runtime/metadata/index.js";
import { MicroError } from "../../runtime/errors/index.js";
import { describeJsonValue, isJsonObject } from "../../runtime/errors/json-object.js";
import { requireRequestObject } from "../request.js";
import { callOptions, callUnary, disconnectSignal } from "../call.js";
import type { GatewayContext } from "../context.js";
import { toGatewayError } from "../errors.js";
import { applyQuery, buildRuleRequest, ruleResponse } from "../http-rule.js";
import { bodyKind, headerMetadata, parseFormBody, parseJsonBody, splitUrl } from "../request.js";
import { pathSegments, type Target } from "../resolve.js";
import { resolveTarget } from "../target.js";
import { setHttpRoute } from "../tracing.js";
import { bytesTarget, jsonTarget } from "../../runtime/target/index.js";

function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (!isJsonObject(value)) throw MicroError.badRequest("micro.api", `${what} must be a JSON object, got ${describeJsonValue(value)}`);
  return value;
}

/** The JSON request message for a target from the HTTP request. */
export function buildRequest(target: Target, contentType: string | undefined, body: Buffer | undefined, query: URLSearchParams): unknown {
  const kind = bodyKind(contentType, body);
  if (kind === "protobuf") throw MicroError.badRequest("micro.api", "a protobuf body cannot be combined with an http rule route; send JSON");
  const value = kind === "json" ? parseJsonBody(body!) : kind === "form" ? parseFormBody(body!, target.fields) : undefined;
  if (target.rule) return buildRuleRequest(target.rule, target.vars ?? {}, value, query, target.fields);
  if (value === undefined) {
    const request: Record<string, unknown> = {};
    applyQuery(request, query, target.fields);
    return request;
  }
  return requireRequestObject(value);
}

function sseEvent(event: string | undefined, data: unknown): string {
  return `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
}

/** Send a server stream as SSE or NDJSON; the first message (or error) is awaited so failures keep their status. */
async function sendServerStream(ctx: GatewayContext, reply: FastifyReply, target: Target, request: unknown, metadata: Metadata, sse: boolean): Promise<void> {
  const signal = disconnectSignal(reply);
  const stream = ctx.client.serverStream(jsonTarget(target.service, target.endpoint, "server_streaming"), request, callOptions(ctx, metadata, signal, "application/json", true));
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  const rule = target.rule;
  const frame = (m: unknown): string => (sse ? sseEvent(undefined, rule ? ruleResponse(rule, m) : m) : `${JSON.stringify(rule ? ruleResponse(rule, m) : m)}\n`);
  async function* lines(): AsyncGenerator<string> {
    try {
      if (!first.done) {
        yield frame(first.value);
        for (let r = await it.next(); !r.done; r = await it.next()) yield frame(r.value);
      }
      if (sse) yield sseEvent("end", {});
    } catch (error) {
      const e = toGatewayError(error).toJSON();
      yield sse ? sseEvent("error", e) : `${JSON.stringify({ error: e })}\n`;
    } finally {
      await it.return?.();
    }
  }
  reply.code(200).header("cache-control", "no-cache").type(sse ? "text/event-stream" : "application/x-ndjson");
  await reply.send(Readable.from(lines(), { objectMode: false }));
}

async function callTarget(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply, target: Target, request: unknown, metadata: Metadata): Promise<void> {
  const sse = (req.headers.accept ?? "").includes("text/event-stream");
  if (target.kind === "server_streaming") return sendServerStream(ctx, reply, target, request, metadata, sse);
  if (target.kind !== "unary") {
    throw MicroError.badRequest("micro.api", `${target.endpoint} is a ${target.kind.replace("_", " ")} endpoint: connect with a WebSocket to stream requests`);
  }
  const rsp = await callUnary(ctx, reply, jsonTarget(target.service, target.endpoint), request, metadata);
  const out = target.rule ? ruleResponse(target.rule, rsp) : rsp;
  await reply.code(200).type("application/json").send(JSON.stringify(out ?? null));
}

/** `POST /rpc` with `{ service, endpoint, request }`. */
async function rpcEndpoint(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const body = req.body as Buffer | undefined;
  const kind = bodyKind(req.headers["content-type"], body);
  let fields: Record<string, unknown>;
  if (kind === "json") fields = requireObject(parseJsonBody(body!), "the /rpc body");
  else if (kind === "form") fields = Object.fromEntries(new URLSearchParams(body!.toString("utf8")));
  else throw MicroError.badRequest("micro.api", 'POST /rpc needs a JSON or form body: {"service": "...", "endpoint": "...", "request": {...}}');
  const service = fields.service;
  const endpoint = fields.endpoint ?? fields.method;
  if (typeof service !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(service)) throw MicroError.badRequest("micro.api", '"service" must be a service name, e.g. "greeter"');
  if (typeof endpoint !== "string" || !/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$/.test(endpoint)) throw MicroError.badRequest("micro.api", '"endpoint" must be an endpoint name, e.g. "Greeter.Hello"');
  let request = fields.request ?? {};
  // A form field can only carry the request as JSON text; a JSON body carries it as an object.
  if (kind === "form" && typeof request === "string") {
    try {
      request = request === "" ? {} : JSON.parse(request);
    } catch (error) {
      throw MicroError.badRequest("micro.api", `malformed JSON in "request": ${(error as Error).message}`);
    }
  }
  requireRequestObject(request);
  const info = await ctx.routes.endpoint(service, endpoint);
  await callTarget(ctx, req, reply, { service, endpoint, kind: info?.kind ?? "unary", fields: info?.requestFields }, request, headerMetadata(req.headers));
}

/** The rpc handler. */
export async function rpcHandler(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { path, query } = splitUrl(req.raw.url ?? "/");
  let target = ctx.targets.get(req.method, path);
  if (target === undefined) {
    const segments = pathSegments(path);
    if (segments.length === 1 && segments[0] === "rpc" && req.method === "POST") return rpcEndpoint(ctx, req, reply);
    target = await resolveTarget(ctx, req.method, segments, true, path);
  }
  setHttpRoute(req.method, target.rule ? target.rule.path : path);
  const metadata = headerMetadata(req.headers);
  const body = req.body as Buffer | undefined;
  if (!target.rule && target.kind === "unary" && bodyKind(req.headers["content-type"], body) === "protobuf") {
    // Protobuf in, protobuf out: the bytes pass through untouched.
    const rsp = await callUnary(ctx, reply, bytesTarget(target.service, target.endpoint), new Uint8Array(body!), metadata, "application/protobuf");
    await reply.code(200).type("application/protobuf").send(Buffer.from(rsp.buffer, rsp.byteOffset, rsp.byteLength));
    return;
  }
  const request = buildRequest(target, req.headers["content-type"], body, query);
  await callTarget(ctx, req, reply, target, request, metadata);
}
