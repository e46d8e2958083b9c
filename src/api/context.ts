/**
 * What every gateway handler shares: the runtime client and registry, the route table, and the options.
 */
import type { FastifyReply } from "fastify";
import type { Client, CallOptions, CallTarget } from "../runtime/client/index.js";
import type { Metadata } from "../runtime/metadata/index.js";
import { MicroError } from "../runtime/errors/index.js";
import type { HttpRule, MethodKind, ValueRecord } from "../runtime/definition/index.js";
import type { Registry } from "../runtime/registry/index.js";
import { callAbort } from "./call-abort.js";
import { resolveSegments } from "./resolve.js";
import type { RouteTable } from "./routes.js";
import type { TargetCache } from "./target-cache.js";

export interface GatewayContext {
  readonly client: Client;
  readonly registry: Registry;
  readonly routes: RouteTable;
  /** Targets already resolved, by method and raw path. */
  readonly targets: TargetCache;
  readonly namespace: string;
  /** Backend call timeout in milliseconds. */
  readonly timeout: number;
  readonly maxBody: number;
}

/** The service method a request goes to. */
export interface Target {
  readonly service: string;
  readonly endpoint: string;
  readonly kind: MethodKind;
  /** Set when a `google.api.http` route matched. */
  readonly rule?: HttpRule;
  readonly vars?: Record<string, string>;
  readonly fields?: readonly ValueRecord[];
}

/**
 * Route first (http rules), then Go Micro's path resolution. With the raw `path` the segments came from,
 * a target that resolved to a known endpoint is remembered for the next request (see {@link TargetCache}).
 */
export async function resolveTarget(ctx: GatewayContext, method: string, segments: readonly string[], useRoutes = true, path?: string): Promise<Target> {
  const version = ctx.routes.version;
  if (useRoutes) {
    const hit = ctx.routes.match(method, segments);
    if (hit) {
      const { route, vars } = hit;
      const target = { service: route.service, endpoint: route.endpoint, kind: route.kind, rule: route.rule, vars, fields: route.requestFields };
      if (path !== undefined) ctx.targets.set(method, path, target, version);
      return target;
    }
  }
  const { service, endpoint } = resolveSegments(segments, ctx.namespace);
  const info = await ctx.routes.endpoint(service, endpoint);
  const target = { service, endpoint, kind: info?.kind ?? "unary", fields: info?.requestFields };
  if (info && useRoutes && path !== undefined) ctx.targets.set(method, path, target, version);
  return target;
}

/**
 * Call options for one gateway request. Unary calls get the backend timeout; streams live as long as the
 * client stays connected (they end on the client's disconnect, through `signal`).
 */
export function callOptions(ctx: GatewayContext, metadata: Metadata, signal: AbortSignal, contentType = "application/json", stream = false): CallOptions {
  return stream ? { metadata, signal, contentType } : { timeout: ctx.timeout, metadata, signal, contentType };
}

/** Aborts when the client goes away before the response is complete. */
export function disconnectSignal(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) ac.abort(new Error("client disconnected"));
  });
  return ac.signal;
}

/**
 * One unary call for an HTTP request, bounded as a whole by the gateway's timeout (retries included) and
 * cancelled when the client goes away. Running out of time is a 504.
 */
export async function callUnary<I, O>(ctx: GatewayContext, reply: FastifyReply, target: CallTarget<I, O>, request: I, metadata: Metadata, contentType = "application/json"): Promise<O> {
  const call = callAbort(reply.raw);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    call.abort(new Error("gateway timeout"));
  }, ctx.timeout);
  try {
    return await ctx.client.call(target, request, { timeout: ctx.timeout, metadata, signal: call.signal, contentType });
  } catch (error) {
    if (timedOut) throw new MicroError("micro.api", 504, `${target.service} did not answer ${target.endpoint} within ${ctx.timeout} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
    call.release();
  }
}
