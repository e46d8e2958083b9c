/**
 * The RabbitMQ broker's connection: one AMQP connection with a confirm channel for publishing, the two
 * exchanges declared on it, and a reconnect loop (jittered, capped exponential backoff, servers tried in
 * turn, forever) that calls `onSession` after every reconnect so the subscriptions are restored.
 */
import { connect, type ChannelModel, type ConfirmChannel } from "amqplib";
import { MicroError } from "../../errors/index.js";
import type { Logger } from "../../logger/index.js";
import { withTimeout } from "../../internal/timeout.js";
import { ID, type ResolvedRabbitOptions } from "./options.js";

/** One live connection: its publishing channel and a number that changes on every reconnect. */
export interface Session {
  readonly model: ChannelModel;
  readonly publisher: ConfirmChannel;
  readonly generation: number;
}

/** A server URL with the credentials of the options (if any) filled in, and a password never logged. */
function withCredentials(server: string, options: ResolvedRabbitOptions): { url: string; shown: string } {
  const url = new URL(server);
  if (options.user !== undefined) {
    url.username = encodeURIComponent(options.user);
    url.password = encodeURIComponent(options.pass ?? "");
  }
  const shown = new URL(url.href);
  if (shown.password) shown.password = "***";
  return { url: url.href, shown: shown.href };
}

export class RabbitConnection {
  private current: Session | undefined;
  private opening: Promise<Session> | undefined;
  private waiters = new Set<(session: Session) => void>();
  private closed = false;
  private generation = 0;
  private attempt = 0;
  private next = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Why the last attempt failed, for the 503 a waiting publish gets. */
  private lastError = "";

  constructor(
    private readonly options: ResolvedRabbitOptions,
    private readonly log: Logger,
    /** Runs on every new session (the first and each reconnect) before it is handed out. */
    private readonly onSession: (session: Session) => Promise<void>,
  ) {}

  /** The servers, as shown in errors and logs (passwords masked). */
  get address(): string {
    return this.options.servers.map((s) => withCredentials(s, this.options).shown).join(",");
  }

  /**
   * Connect the first time: every server is tried once; a 503 naming them when none answers (nothing keeps
   * retrying then: the next call tries again).
   */
  open(): Promise<Session> {
    if (this.current) return Promise.resolve(this.current);
    this.closed = false;
    return (this.opening ??= this.tryServers().then(
      (session) => {
        this.opening = undefined;
        return session;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw new MicroError(
          ID,
          503,
          `cannot connect to RabbitMQ at ${this.address}: ${this.lastError}. Start rabbitmq-server or point --broker_address / MICRO_BROKER_ADDRESS at it.`,
          undefined,
          { cause: error },
        );
      },
    ));
  }

  /**
   * The live session; while reconnecting, waits for the next one at most `waitMs`, then fails with a 503
   * saying the broker is reconnecting.
   */
  async session(waitMs: number, what: string): Promise<Session> {
    if (this.current) return this.current;
    if (this.closed) throw new MicroError(ID, 503, `RabbitMQ broker could not ${what}: the broker is disconnected (call connect() first)`);
    if (this.opening) return this.opening;
    if (this.reconnectTimer === undefined && this.attempt === 0) return this.open();
    let waiter: ((session: Session) => void) | undefined;
    const next = new Promise<Session>((resolve) => {
      waiter = resolve;
      this.waiters.add(resolve);
    });
    try {
      return await withTimeout(
        next,
        waitMs,
        () => new MicroError(ID, 503, `RabbitMQ broker could not ${what}: the connection to ${this.address} is lost and did not come back within ${waitMs} ms (${this.lastError || "reconnecting"}); nothing was sent, retry later`),
      );
    } finally {
      this.waiters.delete(waiter!);
    }
  }

  /** Close the connection and stop reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const opening = this.opening;
    // A connection still opening is awaited so it can be closed. Its failure already reached whoever asked for the
    // connection (the publish or subscribe that opened it); here it only means there is nothing to close.
    const session =
      this.current ??
      (await opening?.catch((err: unknown) => {
        this.log.debug({ err }, "the RabbitMQ connection opening at close failed; nothing to close");
        return undefined;
      }));
    this.current = undefined;
    if (!session) return;
    await withTimeout(session.model.close(), this.options.timeout, () => new Error("close timed out")).catch((error: unknown) =>
      this.log.warn({ err: error }, "closing the RabbitMQ connection failed"),
    );
  }

  private async tryServers(): Promise<Session> {
    const servers = this.options.servers;
    let failure: unknown;
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(this.next + i) % servers.length]!;
      try {
        const session = await this.connectTo(server);
        this.next = (this.next + i) % servers.length;
        return session;
      } catch (error) {
        failure = error;
        this.lastError = `${withCredentials(server, this.options).shown}: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    this.next = (this.next + 1) % servers.length;
    throw failure;
  }

  private async connectTo(server: string): Promise<Session> {
    const { url } = withCredentials(server, this.options);
    const timeout = this.options.timeout;
    const model = await withTimeout(connect(url, { timeout }), timeout, () => new Error(`no answer within ${timeout} ms`));
    // Without listeners an 'error' would throw; the 'close' after it drives the reconnect.
    model.on("error", (error: Error) => this.log.warn({ err: error }, "RabbitMQ connection error"));
    model.on("blocked", (reason: string) => this.log.warn({ reason }, "RabbitMQ blocked publishing (resource alarm); publishes wait"));
    model.on("unblocked", () => this.log.info("RabbitMQ unblocked publishing"));
    let session: Session;
    try {
      const publisher = await model.createConfirmChannel();
      publisher.on("error", (error: Error) => this.log.warn({ err: error }, "RabbitMQ publishing channel error"));
      await publisher.assertExchange(this.options.exchange, "topic", { durable: true });
      await publisher.assertExchange(this.options.deadLetterExchange, "topic", { durable: true });
      session = { model, publisher, generation: ++this.generation };
      await this.onSession(session);
    } catch (error) {
      await model.close().catch((e: unknown) => this.log.debug({ err: e }, "closing a half-set-up RabbitMQ connection failed"));
      throw error;
    }
    if (this.closed) {
      await model.close().catch((e: unknown) => this.log.debug({ err: e }, "closing a connection opened during disconnect failed"));
      throw new MicroError(ID, 503, "the RabbitMQ broker was disconnected while connecting");
    }
    model.on("close", (error?: Error) => this.lost(session, error));
    this.current = session;
    this.attempt = 0;
    this.lastError = "";
    for (const waiter of this.waiters) waiter(session);
    return session;
  }

  /** The connection closed under us: reconnect unless we closed it. */
  private lost(session: Session, error?: Error): void {
    if (this.current !== session) return;
    this.current = undefined;
    if (this.closed) return;
    this.lastError = error?.message ?? "connection closed";
    this.log.warn({ err: error }, "disconnected from RabbitMQ; reconnecting");
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    const cap = Math.min(this.options.maxReconnectWait, 100 * 2 ** Math.min(this.attempt++, 10));
    const delay = cap / 2 + Math.random() * (cap / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed) return;
      this.tryServers().then(
        () => this.log.info({ server: this.address }, "reconnected to RabbitMQ"),
        (error: unknown) => {
          this.log.debug({ err: error, attempt: this.attempt }, "RabbitMQ reconnect attempt failed");
          this.schedule();
        },
      );
    }, delay);
  }
}
