/**
 * The `/metrics` endpoint (`--metrics_address`): the prom-client registry in Prometheus's text format, on
 * the shared admin HTTP server. Used by services, the gateway and the web dashboard.
 */
import { serveAdmin, type AdminServer } from "../admin/http.js";
import { loadMetrics, loadPromClient, type MetricsOptions } from "./metrics.js";

const withDefaults = new WeakSet<object>();

/**
 * Serve `GET /metrics` on `address` (`host:port`). The micro metrics are created, and Node's default process
 * metrics (`process_*`, `nodejs_*`) collected once per registry. @throws for a bad address or a busy port.
 */
export async function serveMetrics(address: string, options: MetricsOptions = {}): Promise<AdminServer> {
  const [p, m] = await Promise.all([loadPromClient(), loadMetrics(options)]);
  const register = m.register;
  // Once per registry, and not when the program collects them itself.
  if (!withDefaults.has(register) && register.getSingleMetric("process_cpu_user_seconds_total") === undefined) {
    withDefaults.add(register);
    p.collectDefaultMetrics({ register });
  }
  return serveAdmin(address, { "/metrics": async () => ({ status: 200, contentType: register.contentType, body: await register.metrics() }) }, "metrics");
}
