/**
 * Options of the RabbitMQ broker, completed from `MICRO_BROKER_*` environment variables for what a flag
 * should not carry (credentials) or rarely changes.
 */
import { MicroError } from "../../errors/index.js";
import { nonEmpty, positiveMs, positiveNumber } from "../../internal/option-values.js";

/** What happens to a message whose handler threw. */
export type RabbitFailurePolicy = "requeue" | "dead-letter";

export interface RabbitBrokerOptions {
  /**
   * Comma-separated servers, `amqp://[user:pass@]host:port[/vhost]`, `amqps://…` or `host:port` (default
   * `amqp://127.0.0.1:5672`; `--broker_address`). Reconnects try them in turn.
   */
  address?: string;
  /** The servers as a list (what the `--broker_address` plugin table passes); wins over `address`. */
  servers?: string | readonly string[];
  /** The topic exchange every topic is a routing key of (default `MICRO_BROKER_EXCHANGE`, else `micro`); durable, declared on connect. */
  exchange?: string;
  /** User (default `MICRO_BROKER_USERNAME`, else the URL's, else RabbitMQ's `guest`); requires `pass`. */
  user?: string;
  /** Password (default `MICRO_BROKER_PASSWORD`). */
  pass?: string;
  /**
   * A handler that throws: `requeue` (default) puts the message back on its queue with a redelivery count,
   * up to `maxRedeliveries`; `dead-letter` sends it to `deadLetterExchange` at once. A message past
   * `maxRedeliveries` is dead-lettered too, so a poison message never loops forever.
   */
  onError?: RabbitFailurePolicy;
  /** Redeliveries of a message whose handler keeps throwing, before it is dead-lettered (default 5). */
  maxRedeliveries?: number;
  /**
   * The exchange failed messages go to, keeping their topic as routing key (default `<exchange>.dead-letter`,
   * a durable topic exchange declared on connect). Nothing is bound to it by default: bind a queue (`#`) to
   * keep them; without one RabbitMQ drops them.
   */
  deadLetterExchange?: string;
  /** Unacknowledged messages a subscription holds at once (AMQP prefetch; default 16). */
  prefetch?: number;
  /**
   * Milliseconds for connecting, a publish confirm, and how long a publish waits for a lost connection to come
   * back before it fails with a 503 (default 5000).
   */
  timeout?: number;
  /** Upper bound in milliseconds of the reconnect backoff (default 5000; attempts never stop). */
  maxReconnectWait?: number;
}

export interface ResolvedRabbitOptions {
  servers: string[];
  exchange: string;
  user?: string;
  pass?: string;
  onError: RabbitFailurePolicy;
  maxRedeliveries: number;
  deadLetterExchange: string;
  prefetch: number;
  timeout: number;
  maxReconnectWait: number;
}

/** The RabbitMQ broker's error id (bad options, bad arguments, connection and publish failures). */
export const ID = "micro.broker.rabbitmq";

/** Exchange and queue names: at most 255 bytes (AMQP's short string). */
export const MAX_NAME_BYTES = 255;

export function resolveOptions(options: RabbitBrokerOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedRabbitOptions {
  if (options === null || typeof options !== "object") throw MicroError.badRequest(ID, "RabbitMQ broker options must be an object");
  const list = typeof options.servers === "string" ? options.servers.split(",") : options.servers && options.servers.length > 0 ? [...options.servers] : (options.address ?? "").split(",");
  let servers = list.map((s) => s.trim()).filter((s) => s !== "");
  if (servers.length === 0) servers = ["amqp://127.0.0.1:5672"];
  servers = servers.map((server) => {
    if (/^amqps?:\/\//.test(server)) {
      try {
        new URL(server);
      } catch {
        throw MicroError.badRequest(ID, `invalid RabbitMQ address "${server}"; use amqp://host:port[/vhost]`);
      }
      return server;
    }
    if (server.includes("://")) throw MicroError.badRequest(ID, `unsupported scheme in RabbitMQ address "${server}"; use host:port, amqp://host:port or amqps://host:port`);
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:/\s]+):\d{1,5}$/.test(server)) throw MicroError.badRequest(ID, `invalid RabbitMQ address "${server}"; use host:port or amqp://host:port`);
    return `amqp://${server}`;
  });

  const exchange = options.exchange ?? nonEmpty(env.MICRO_BROKER_EXCHANGE) ?? "micro";
  checkName("exchange", exchange);
  const deadLetterExchange = options.deadLetterExchange ?? `${exchange}.dead-letter`;
  checkName("deadLetterExchange", deadLetterExchange);
  if (deadLetterExchange === exchange) throw MicroError.badRequest(ID, `deadLetterExchange must differ from the exchange "${exchange}": failed messages would be delivered again`);

  const onError = options.onError ?? "requeue";
  if (onError !== "requeue" && onError !== "dead-letter") throw MicroError.badRequest(ID, `onError must be "requeue" or "dead-letter", got ${JSON.stringify(onError)}`);
  const maxRedeliveries = options.maxRedeliveries ?? 5;
  if (!Number.isInteger(maxRedeliveries) || maxRedeliveries < 0) throw MicroError.badRequest(ID, `RabbitMQ broker option maxRedeliveries must be a whole number ≥ 0, got ${String(maxRedeliveries)}`);

  const user = options.user ?? nonEmpty(env.MICRO_BROKER_USERNAME);
  const pass = options.pass ?? nonEmpty(env.MICRO_BROKER_PASSWORD);
  if (pass !== undefined && user === undefined) throw MicroError.badRequest(ID, "a RabbitMQ password was given without a user (set MICRO_BROKER_USERNAME or the user option)");

  return {
    servers,
    exchange,
    user,
    pass,
    onError,
    maxRedeliveries,
    deadLetterExchange,
    prefetch: wholeCount(positiveNumber(options.prefetch, 16, ID, "RabbitMQ broker", "prefetch", { max: 65535 })),
    timeout: positiveMs(options.timeout, 5000, ID, "RabbitMQ broker", "timeout"),
    maxReconnectWait: positiveMs(options.maxReconnectWait, 5000, ID, "RabbitMQ broker", "maxReconnectWait"),
  };
}

function wholeCount(prefetch: number): number {
  if (!Number.isInteger(prefetch)) throw MicroError.badRequest(ID, `RabbitMQ broker option prefetch must be a whole number of messages, got ${prefetch}`);
  return prefetch;
}

function checkName(option: string, name: string): void {
  if (typeof name !== "string" || name === "" || Buffer.byteLength(name) > MAX_NAME_BYTES || name.startsWith("amq.")) {
    throw MicroError.badRequest(ID, `invalid RabbitMQ ${option} "${String(name)}": 1 to ${MAX_NAME_BYTES} bytes, not starting with "amq." (reserved)`);
  }
}
