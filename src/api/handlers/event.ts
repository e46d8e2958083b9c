/**
 * The `event` handler: `POST /[topic]/[event]` publishes the request to the broker topic
 * `[namespace.]topic` as `{ id, name, timestamp, header, data }` (Go Micro's api event).
 */
import { randomUUID } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { MicroError } from "../../runtime/errors/index.js";
import type { GatewayContext } from "../context.js";
import { headerMetadata, headerPairs, splitUrl } from "../request.js";
import { pathSegments } from "../resolve.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export async function eventHandler(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const segments = pathSegments(splitUrl(req.raw.url ?? "/").path);
  if (segments.length < 1 || segments.length > 2 || !segments.every((s) => NAME.test(s))) {
    throw MicroError.notFound("micro.api", "event paths are /[topic]/[event]");
  }
  if (req.method !== "POST" && req.method !== "PUT") throw MicroError.methodNotAllowed("micro.api", "publish events with POST");
  const topic = ctx.namespace ? `${ctx.namespace}.${segments[0]}` : segments[0]!;
  const body = req.body as Buffer | undefined;
  const event = {
    id: randomUUID(),
    name: segments[1] ?? "",
    timestamp: Math.floor(Date.now() / 1000),
    header: headerPairs(req.headers),
    data: body ? body.toString("utf8") : "",
  };
  await ctx.client.publish(topic, event, { metadata: headerMetadata(req.headers) });
  await reply.code(200).type("application/json").send(JSON.stringify({ id: event.id, topic }));
}
