/**
 * Pooled transport connections per address. Each connection multiplexes many calls, so the pool only opens
 * another one (up to `size`) when the least busy connection already carries `spreadAt` streams; new
 * connections are dialled in the background while the busy ones keep serving.
 */
import { MicroError } from "../errors/index.js";
import type { Connection, Transport } from "./index.js";

const noop = (): void => {};

class AddressPool {
  readonly connections: Connection[] = [];
  private dialing: Promise<Connection> | undefined;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly address: string,
    private readonly size: number,
    private readonly spreadAt: number,
    private readonly dialTimeout: number,
  ) {}

  /** A connection now if one is open (the common case), else a promise of a new one. */
  get(): Connection | Promise<Connection> {
    const list = this.connections;
    let best: Connection | undefined;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (!c.closed && (best === undefined || c.activeStreams < best.activeStreams)) best = c;
    }
    if (best !== undefined) {
      if (best.activeStreams >= this.spreadAt && list.length < this.size && this.dialing === undefined) this.dial().catch(noop);
      return best;
    }
    return this.dialing ?? this.dial();
  }

  private dial(): Promise<Connection> {
    const p = this.transport.dial(this.address, { timeout: this.dialTimeout }).then(
      (c) => {
        this.dialing = undefined;
        if (this.closed) {
          // Closed while dialling: nobody would ever close this connection, and its socket would keep the process alive.
          c.close();
          throw new MicroError("micro.client", 503, `the client was closed while connecting to ${this.address}`);
        }
        this.connections.push(c);
        c.onClose(() => {
          const i = this.connections.indexOf(c);
          if (i >= 0) this.connections.splice(i, 1);
        });
        return c;
      },
      (error: unknown) => {
        this.dialing = undefined;
        throw error;
      },
    );
    this.dialing = p;
    return p;
  }

  /** Resolves when no dial is in flight (tests and diagnostics). */
  async settled(): Promise<void> {
    await this.dialing?.catch(noop);
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.splice(0)) c.close();
  }
}

export interface PoolOptions {
  /** Most connections per address (default 4). */
  size?: number;
  /** Open another connection when the least busy one carries this many streams (default 16). */
  spreadAt?: number;
  /** Milliseconds to wait for a new connection (default 5000). */
  dialTimeout?: number;
}

export class ConnectionPool {
  private readonly pools = new Map<string, AddressPool>();
  private readonly size: number;
  private readonly spreadAt: number;
  private readonly dialTimeout: number;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    options: PoolOptions = {},
  ) {
    this.size = Math.max(1, options.size ?? 4);
    this.spreadAt = Math.max(1, options.spreadAt ?? 16);
    this.dialTimeout = options.dialTimeout ?? 5000;
  }

  /** A connection to `address`: synchronously when one is open, else a promise of one. */
  get(address: string): Connection | Promise<Connection> {
    if (this.closed) throw new MicroError("micro.client", 500, "the connection pool is closed");
    let pool = this.pools.get(address);
    if (pool === undefined) {
      pool = new AddressPool(this.transport, address, this.size, this.spreadAt, this.dialTimeout);
      this.pools.set(address, pool);
    }
    return pool.get();
  }

  /** Open connections to an address (tests and diagnostics). */
  connections(address: string): number {
    return this.pools.get(address)?.connections.length ?? 0;
  }

  /** Open connections to every address (the pool gauge of the metrics). */
  openConnections(): number {
    let n = 0;
    for (const pool of this.pools.values()) n += pool.connections.length;
    return n;
  }

  /** Resolves when no dial to `address` is in flight (tests and diagnostics). */
  settled(address: string): Promise<void> {
    return this.pools.get(address)?.settled() ?? Promise.resolve();
  }

  close(): void {
    this.closed = true;
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
