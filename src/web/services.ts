/**
 * The dashboard's list of services: one summary per name (versions, node count) and, for services in the web
 * namespace with a node serving HTTP, the path their app is proxied at.
 */
import { servesHttp } from "../api/proxy.js";
import { SEGMENT, VERSION } from "../http/rpc-route.js";
import type { ServiceRecord } from "../runtime/registry/index.js";
import { serviceNames } from "../runtime/registry/describe.js";

/** One service as `GET /api/services` lists it. */
export interface ServiceSummary {
  name: string;
  /** Every registered version, sorted. */
  versions: string[];
  /** Nodes over all versions. */
  nodes: number;
  /** `/<name>/`: where the dashboard proxies its web app (namespace services with `protocol: http` nodes). */
  app?: string;
}

/** Summaries of `records` (the broker's internal entries left out), sorted by name. */
export function summarize(records: readonly ServiceRecord[], namespace: string): ServiceSummary[] {
  return serviceNames(records).map((name) => {
    const mine = records.filter((r) => r.name === name);
    const summary: ServiceSummary = {
      name,
      versions: [...new Set(mine.map((r) => r.version))].sort(),
      nodes: mine.reduce((n, r) => n + r.nodes.length, 0),
    };
    const prefix = namespace ? `${namespace}.` : "";
    // Only names the proxy routes back to this service get a link (`name` or `v1.name`, each part a path
    // segment: never `//host` or `javascript:`).
    const parts = name.startsWith(prefix) ? name.slice(prefix.length).split(".") : [];
    const routed = (parts.length === 1 || (parts.length === 2 && VERSION.test(parts[0]!))) && parts.every((p) => SEGMENT.test(p));
    if (routed && mine.some((r) => r.nodes.some(servesHttp))) summary.app = `/${parts.join("/")}/`;
    return summary;
  });
}
