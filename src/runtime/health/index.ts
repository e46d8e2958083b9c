/** Health probes: readiness checks (`Health`) and the `/health/live` + `/health/ready` server. */
export { Health, statusLine, DEFAULT_CHECK_TIMEOUT, type HealthCheck, type CheckOptions, type CheckResult, type HealthReport } from "./health.js";
export { serveHealth } from "./serve.js";
