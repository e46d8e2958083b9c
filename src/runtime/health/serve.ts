/**
 * The probe endpoints (`--health_address`): `GET /health/live` answers 200 while the process runs;
 * `GET /health/ready` runs the readiness checks and answers 200 or 503 with a JSON body per check.
 */
import { serveAdmin, type AdminServer } from "../admin/http.js";
import type { Health } from "./health.js";

/** Serve the probes of `health` on `address` (`host:port`). @throws for a bad address or a busy port. */
export function serveHealth(address: string, health: Health): Promise<AdminServer> {
  return serveAdmin(
    address,
    {
      "/health/live": () => ({ status: 200, contentType: "application/json", body: JSON.stringify({ status: "live" }) }),
      "/health/ready": async () => {
        const report = await health.ready();
        return { status: report.status === "ready" ? 200 : 503, contentType: "application/json", body: JSON.stringify(report) };
      },
    },
    "health",
  );
}
