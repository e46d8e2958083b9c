/**
 * Which service method a request goes to: the `google.api.http` routes first, then Go Micro's path
 * resolution, with the answer remembered in the target cache.
 */
import type { GatewayContext } from "./context.js";
import { MethodNotAllowed } from "./errors.js";
import type { EndpointInfo } from "./routes.js";
import { resolveSegments, type Resolved, type Target } from "./resolve.js";

/**
 * The endpoint a Go Micro path names, as the registry knows it: `Hello.Call`, or when the service has no such
 * endpoint, `HelloService.Call` (buf's naming of the service, which `micro new` scaffolds).
 */
async function knownEndpoint(ctx: GatewayContext, resolved: Resolved): Promise<{ resolved: Resolved; info: EndpointInfo } | undefined> {
  const info = await ctx.routes.endpoint(resolved.service, resolved.endpoint);
  if (info) return { resolved, info };
  const dot = resolved.endpoint.indexOf(".");
  if (resolved.endpoint.slice(0, dot).endsWith("Service")) return undefined;
  const alt = { service: resolved.service, endpoint: `${resolved.endpoint.slice(0, dot)}Service${resolved.endpoint.slice(dot)}` };
  const altInfo = await ctx.routes.endpoint(alt.service, alt.endpoint);
  return altInfo ? { resolved: alt, info: altInfo } : undefined;
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
  // A path that http rules serve with other methods is a 405, unless Go Micro's path resolution names a real endpoint.
  const allow = useRoutes ? ctx.routes.methodsFor(segments) : [];
  let resolved: Resolved | undefined;
  try {
    resolved = resolveSegments(segments, ctx.namespace);
  } catch (error) {
    if (allow.length === 0) throw error;
  }
  const found = resolved ? await knownEndpoint(ctx, resolved) : undefined;
  if (!found && allow.length > 0) throw new MethodNotAllowed(method, path ?? `/${segments.join("/")}`, allow);
  const { service, endpoint } = found?.resolved ?? resolved!;
  const info = found?.info;
  const target = { service, endpoint, kind: info?.kind ?? "unary", fields: info?.requestFields };
  if (info && useRoutes && path !== undefined) ctx.targets.set(method, path, target, version);
  return target;
}
