/**
 * Options of the NATS broker, completed from `MICRO_BROKER_*` environment variables for credentials a flag
 * should not carry.
 */
import { MicroError } from "../../errors/index.js";
import { nonEmpty, positiveMs } from "../../internal/option-values.js";

export interface NatsBrokerOptions {
  /** Comma-separated servers, `nats://host:port` or `host:port` (default `nats://127.0.0.1:4222`; `--broker_address`). */
  address?: string;
  /** The servers as a list (what the `--broker_address` plugin table passes); wins over `address`. */
  servers?: string | readonly string[];
  /**
   * Deliver at least once through JetStream for every subscription and publish of this broker (a single
   * subscription can opt in with `BrokerSubscribeOptions.durable`). Default `MICRO_BROKER_DURABLE=true`, else
   * false: core NATS, at most once.
   */
  durable?: boolean;
  /**
   * The JetStream stream that stores durable topics (default `MICRO_BROKER_STREAM`, else `MICRO`); created if
   * missing, subjects added as used.
   */
  stream?: string;
  /**
   * The connection name shown by the server, and the identity of durable subscribers without a queue
   * group: their consumer is named `<name>-<topic>`, so a restarted process resumes where it stopped.
   * Default `MICRO_BROKER_NAME`, else `micro`. A service whose broker comes from `--broker nats` gets its service
   * name here (unless `MICRO_BROKER_NAME` is set); a broker built in code should be given one.
   */
  name?: string;
  /** User (default `MICRO_BROKER_USERNAME`); requires `pass`. */
  user?: string;
  /** Password (default `MICRO_BROKER_PASSWORD`). */
  pass?: string;
  /** Token authentication (default `MICRO_BROKER_TOKEN`). */
  token?: string;
  /** Milliseconds for connecting, JetStream API calls and publish acks (default 5000). */
  timeout?: number;
  /** Upper bound in milliseconds of the reconnect backoff (default 5000; attempts never stop). */
  maxReconnectWait?: number;
}

export interface ResolvedNatsOptions {
  servers: string[];
  durable: boolean;
  stream: string;
  name: string;
  /** Whether `name` was chosen (option or `MICRO_BROKER_NAME`) rather than defaulted. */
  named: boolean;
  user?: string;
  pass?: string;
  token?: string;
  timeout: number;
  maxReconnectWait: number;
}

/** The NATS broker's error id (bad options, bad arguments, connection and JetStream failures). */
export const ID = "micro.broker.nats";

export function resolveOptions(options: NatsBrokerOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedNatsOptions {
  const list = typeof options.servers === "string" ? options.servers.split(",") : options.servers && options.servers.length > 0 ? [...options.servers] : (options.address ?? "").split(",");
  let servers = list.map((s) => s.trim()).filter((s) => s !== "");
  if (servers.length === 0) servers = ["nats://127.0.0.1:4222"];
  servers = servers.map((server) => {
    if (/^(nats|tls|wss?):\/\//.test(server)) return server;
    if (server.includes("://")) throw MicroError.badRequest(ID, `unsupported scheme in NATS address "${server}"; use host:port or nats://host:port`);
    return `nats://${server}`;
  });

  const stream = options.stream ?? nonEmpty(env.MICRO_BROKER_STREAM) ?? "MICRO";
  if (!/^[^.*>\s\\/]+$/.test(stream)) throw MicroError.badRequest(ID, `invalid JetStream stream name "${stream}": no dots, wildcards, slashes or spaces`);

  const user = options.user ?? nonEmpty(env.MICRO_BROKER_USERNAME);
  const pass = options.pass ?? nonEmpty(env.MICRO_BROKER_PASSWORD);
  const token = options.token ?? nonEmpty(env.MICRO_BROKER_TOKEN);
  if (pass !== undefined && user === undefined) throw MicroError.badRequest(ID, "a NATS password was given without a user (set MICRO_BROKER_USERNAME or the user option)");

  return {
    servers,
    durable: options.durable ?? parseBoolean(env.MICRO_BROKER_DURABLE),
    stream,
    name: options.name ?? nonEmpty(env.MICRO_BROKER_NAME) ?? "micro",
    named: options.name !== undefined || nonEmpty(env.MICRO_BROKER_NAME) !== undefined,
    user,
    pass,
    token,
    timeout: positiveMs(options.timeout, 5000, ID, "NATS broker", "timeout"),
    maxReconnectWait: positiveMs(options.maxReconnectWait, 5000, ID, "NATS broker", "maxReconnectWait"),
  };
}

function parseBoolean(value: string | undefined): boolean {
  if (value === undefined || value === "") return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw MicroError.badRequest(ID, `MICRO_BROKER_DURABLE must be true or false, got "${value}"`);
}
