/**
 * The global flags every micro-ts process understands, with Go Micro's names and meaning. Each flag can also
 * be set through its `MICRO_*` environment variable; a flag on the command line wins over the environment,
 * and options given in code win over both (as in Go Micro).
 */
import { MicroError } from "../errors/index.js";

/** One global flag, shared with the `micro` command line (yargs) so that both spell it the same way. */
export interface FlagDefinition {
  /** The flag without dashes, e.g. `registry_address`. */
  readonly name: keyof ConfigValues;
  /** The environment variable, e.g. `MICRO_REGISTRY_ADDRESS`. */
  readonly env: string;
  readonly description: string;
  /** `string`, `number` (an integer), or `duration` (Go's form `5s`, `250ms`, `1m`; a bare number is milliseconds). */
  readonly type: "string" | "number" | "duration";
  /** The default, as documentation (the service applies it). */
  readonly default?: string | number;
}

/** Values read from flags and the environment. Durations are in milliseconds; TTL and interval in seconds. */
export interface ConfigValues {
  registry?: string;
  registry_address?: string;
  transport?: string;
  transport_address?: string;
  transport_tls_cert?: string;
  transport_tls_key?: string;
  transport_tls_ca?: string;
  broker?: string;
  broker_address?: string;
  selector?: string;
  server_name?: string;
  server_version?: string;
  server_address?: string;
  server_advertise?: string;
  register_ttl?: number;
  register_interval?: number;
  client_retries?: number;
  client_request_timeout?: number;
  client_pool_size?: number;
  drain_timeout?: number;
  metrics_address?: string;
  health_address?: string;
}

/** The global flags, in the order `--help` lists them. */
export const globalFlags: readonly FlagDefinition[] = [
  { name: "registry", env: "MICRO_REGISTRY", type: "string", default: "local", description: "Registry for discovery: local, memory, etcd, mdns" },
  { name: "registry_address", env: "MICRO_REGISTRY_ADDRESS", type: "string", description: "Comma-separated registry addresses (local: a directory; etcd: host:port list; mdns: interface and/or multicast group)" },
  { name: "transport", env: "MICRO_TRANSPORT", type: "string", default: "tcp", description: "Transport mechanism: tcp (micro's own protocol) or grpc (standard gRPC over HTTP/2)" },
  { name: "transport_address", env: "MICRO_TRANSPORT_ADDRESS", type: "string", description: "Transport address (unused by tcp and grpc)" },
  { name: "transport_tls_cert", env: "MICRO_TRANSPORT_TLS_CERT", type: "string", description: "PEM certificate file: the server serves TLS with it (give its key too); a client presents it for mTLS" },
  { name: "transport_tls_key", env: "MICRO_TRANSPORT_TLS_KEY", type: "string", description: "PEM private key file of --transport_tls_cert" },
  { name: "transport_tls_ca", env: "MICRO_TRANSPORT_TLS_CA", type: "string", description: "PEM CA file: clients verify servers with it; a TLS server with it requires client certificates (mTLS)" },
  { name: "broker", env: "MICRO_BROKER", type: "string", default: "direct", description: "Broker for pub/sub: direct, memory, nats, rabbitmq" },
  { name: "broker_address", env: "MICRO_BROKER_ADDRESS", type: "string", description: "Comma-separated broker addresses (nats: nats://host:4222; rabbitmq: amqp://host:5672; direct: listen address, host:port or a range host:8000-8010)" },
  { name: "selector", env: "MICRO_SELECTOR", type: "string", default: "leastconn", description: "Node selection strategy: leastconn (fewest calls in flight), latency, random, roundrobin" },
  { name: "server_name", env: "MICRO_SERVER_NAME", type: "string", description: "Name of the service in the registry (a name given in code wins)" },
  { name: "server_version", env: "MICRO_SERVER_VERSION", type: "string", description: "Version of the server" },
  { name: "server_address", env: "MICRO_SERVER_ADDRESS", type: "string", default: "127.0.0.1:0", description: "Bind address for the server, host:port or a range host:8000-8010 (first free port)" },
  { name: "server_advertise", env: "MICRO_SERVER_ADVERTISE", type: "string", description: "Address to advertise in the registry, host:port" },
  { name: "register_ttl", env: "MICRO_REGISTER_TTL", type: "number", default: 90, description: "Registration TTL in seconds" },
  { name: "register_interval", env: "MICRO_REGISTER_INTERVAL", type: "number", default: 30, description: "Re-registration interval in seconds" },
  { name: "client_retries", env: "MICRO_CLIENT_RETRIES", type: "number", default: 1, description: "Retries on timeouts and connection failures" },
  { name: "client_request_timeout", env: "MICRO_CLIENT_REQUEST_TIMEOUT", type: "duration", default: "5s", description: "Timeout of each request attempt, e.g. 5s, 500ms" },
  { name: "client_pool_size", env: "MICRO_CLIENT_POOL_SIZE", type: "number", default: 4, description: "Connections per address in the client pool (each multiplexes many calls)" },
  { name: "drain_timeout", env: "MICRO_DRAIN_TIMEOUT", type: "duration", default: "10s", description: "On stop (SIGINT/SIGTERM), how long in-flight calls and streams get to finish, e.g. 30s" },
  { name: "metrics_address", env: "MICRO_METRICS_ADDRESS", type: "string", description: "Serve Prometheus metrics on host:port/metrics (services: also records calls, publishes, deliveries, lookups)" },
  { name: "health_address", env: "MICRO_HEALTH_ADDRESS", type: "string", description: "Serve /health/live and /health/ready probes on host:port" },
];

const byName = new Map<string, FlagDefinition>(globalFlags.map((f) => [f.name, f]));

/**
 * Parse a duration as Go does (`1m30s`, `250ms`, `5s`, `1.5h`); a bare number is milliseconds.
 * @returns milliseconds
 * @throws MicroError (400) naming the bad value.
 */
export function parseDuration(text: string, what = "duration"): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * unit[m[2]!]!;
    end = re.lastIndex;
  }
  if (s.length === 0 || end !== s.length) {
    throw MicroError.badRequest("micro.config", `invalid ${what} "${text}": use a number of milliseconds or Go's form like 5s, 250ms, 1m30s`);
  }
  return total;
}

function convert(flag: FlagDefinition, raw: string, source: string): string | number {
  if (flag.type === "string") return raw;
  if (flag.type === "duration") return parseDuration(raw, `${source} value`);
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < 0) {
    throw MicroError.badRequest("micro.config", `invalid ${source} value "${raw}": expected a whole number ≥ 0`);
  }
  return n;
}

/**
 * Read the global flags from `argv` (`--registry etcd`, `--registry=etcd`, `-registry etcd`) and the
 * `MICRO_*` variables from `env`. Flags win over the environment. Arguments that are not global flags are
 * left alone (the application may have its own).
 * @throws MicroError (400) when a value is malformed or a flag lacks its value.
 */
export function readConfig(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): ConfigValues {
  const values: Record<string, string | number> = {};
  for (const flag of globalFlags) {
    const raw = env[flag.env];
    if (raw !== undefined && raw !== "") values[flag.name] = convert(flag, raw, flag.env);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    const m = /^--?([a-z_-]+)(?:=(.*))?$/s.exec(arg);
    if (!m) continue;
    const flag = byName.get(m[1]!) ?? byName.get(m[1]!.replace(/-/g, "_"));
    if (!flag) continue;
    let raw = m[2];
    if (raw === undefined) {
      raw = argv[i + 1];
      if (raw === undefined) throw MicroError.badRequest("micro.config", `flag --${flag.name} needs a value (${flag.description})`);
      i++;
    }
    values[flag.name] = convert(flag, raw, `--${flag.name}`);
  }
  return values as ConfigValues;
}
