/**
 * What every gateway handler shares: the runtime client and registry, the route table, and the options.
 */
import type { Client, CallOptions, Metadata } from "../runtime/client/index.js";
import type { HttpRule, MethodKind, ValueRecord } from "../runtime/definition/index.js";
import type { Registry } from "../runtime/registry/index.js";
import { resolveSegments } from "./resolve.js";
import type { RouteTable } from "./routes.js";

export interface GatewayContext {
  readonly client: Client;
  readonly registry: Registry;
  readonly routes: RouteTable;
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

/** Route first (http rules), then Go Micro's path resolution. */
export async function resolveTarget(ctx: GatewayContext, method: string, segments: readonly string[], useRoutes = true): Promise<Target> {
  if (useRoutes) {
    const hit = ctx.routes.match(method, segments);
    if (hit) {
      const { route, vars } = hit;
      return { service: route.service, endpoint: route.endpoint, kind: route.kind, rule: route.rule, vars, fields: route.requestFields };
    }
  }
  const { service, endpoint } = resolveSegments(segments, ctx.namespace);
  const info = await ctx.routes.endpoint(service, endpoint);
  return { service, endpoint, kind: info?.kind ?? "unary", fields: info?.requestFields };
}

/**
 * Call options for one gateway request. Unary calls get the backend timeout; streams live as long as the
 * client stays connected (they end on the client's disconnect, through `signal`).
 */
export function callOptions(ctx: GatewayContext, metadata: Metadata, signal: AbortSignal, contentType = "application/json", stream = false): CallOptions {
  return stream ? { metadata, signal, contentType } : { timeout: ctx.timeout, metadata, signal, contentType };
}
