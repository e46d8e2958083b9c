/**
 * Which service method a request goes to: the `google.api.http` routes first, then Go Micro's path
 * resolution, with the answer remembered in the target cache.
 */
import type { GatewayContext } from "./context.js";
import { resolveSegments, type Target } from "./resolve.js";

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
