/**
 * The `api` handler (Go Micro's `api` handler): the whole HTTP request goes to the resolved endpoint as a
 * `micro.api.v1.Request`; the endpoint answers with a `micro.api.v1.Response` (status, headers, body).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { MicroError } from "../../runtime/errors/index.js";
import { logger } from "../../runtime/logger/index.js";
import { callUnary } from "../call.js";
import type { GatewayContext } from "../context.js";
import { headerMetadata, headerPairs, paramPairs, safeHeader, splitUrl } from "../request.js";
import { pathSegments, resolveSegments } from "../resolve.js";
import { jsonTarget } from "../../runtime/target/index.js";
import { apiResponseCodec, type ApiRequest } from "../types.js";

const log = logger("api");

/** Headers a backend may not set: the gateway owns framing and connection handling. */
const RESERVED = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer"]);

export async function apiHandler(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const rawUrl = req.raw.url ?? "/";
  const { path, query } = splitUrl(rawUrl);
  const { service, endpoint } = resolveSegments(pathSegments(path), ctx.namespace);
  const body = req.body as Buffer | undefined;
  const text = body ? body.toString("utf8") : "";
  const isForm = (req.headers["content-type"] ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
  const apiRequest: ApiRequest = {
    method: req.method,
    path,
    header: headerPairs(req.headers),
    get: paramPairs(query),
    post: isForm ? paramPairs(new URLSearchParams(text)) : {},
    body: text,
    url: rawUrl,
  };
  const rsp = await callUnary(ctx, reply, jsonTarget(service, endpoint), apiRequest as unknown, headerMetadata(req.headers));
  const out = apiResponseCodec.fromJSON(rsp);
  const status = out.statusCode === 0 ? 200 : out.statusCode;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new MicroError("micro.api", 502, `${service} answered with an invalid HTTP status ${out.statusCode}`);
  }
  for (const pair of Object.values(out.header)) {
    const name = pair.key;
    if (RESERVED.has(name.toLowerCase())) continue;
    const values = pair.values.filter((v) => safeHeader(name, v));
    if (values.length !== pair.values.length || values.length === 0) {
      log.warn({ service, header: name }, "dropped a response header with an invalid name or value");
      continue;
    }
    reply.header(name, values.length === 1 ? values[0] : values);
  }
  await reply.code(status).send(out.body);
}
