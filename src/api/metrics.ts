/**
 * The gateway's HTTP metrics: `micro_http_requests_total{method,route,status}` and
 * `micro_http_request_duration_seconds{method,route}`, where `route` is the resolved `service endpoint`
 * (bounded by what is registered, unlike raw paths) or `unmatched`. prom-client loads when the gateway is
 * created with metrics; requests answered before it is loaded are not counted.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { loadMetrics, type MetricsOptions, type MicroMetrics } from "../runtime/metrics/index.js";
import { logger } from "../runtime/logger/index.js";
import type { TargetCache } from "./target-cache.js";

const log = logger("api");

/** A recorder for the gateway's `onResponse` hook. */
export function httpMetrics(options: MetricsOptions, targets: TargetCache): (req: FastifyRequest, reply: FastifyReply) => void {
  let m: MicroMetrics | undefined;
  loadMetrics(options).then(
    (x) => (m = x),
    (err: unknown) => log.error({ err }, "gateway metrics disabled: prom-client could not be loaded"),
  );
  return (req, reply) => {
    if (m === undefined) return;
    const url = req.raw.url ?? "/";
    const q = url.indexOf("?");
    const target = targets.get(req.method, q < 0 ? url : url.slice(0, q));
    const route = target ? `${target.service} ${target.endpoint}` : "unmatched";
    m.httpRequests.labels(req.method, route, String(reply.statusCode)).inc();
    m.httpDuration.labels(req.method, route).observe(reply.elapsedTime / 1000);
  };
}
