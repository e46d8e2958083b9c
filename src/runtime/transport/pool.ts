/**
 * Pooled transport connections per address. Each connection multiplexes many calls, so the pool only opens
 * another one (up to `size`) when the least busy connection already carries `spreadAt` streams; new
 * connections are dialled in the background while the busy ones keep serving. Connections are kept apart by
 * how they were dialled (TLS, plaintext, or the transport's default: see `DialOptions.secure`).
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
    private readonly secure: boolean | undefined,
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
    const p = this.transport.dial(this.address, this.secure === undefined ? { timeout: this.dialTimeout } : { timeout: this.dialTimeout, secure: this.secure }).then(
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
  /** By address, one map per way of dialling: the transport's default, TLS, plaintext. */
  private readonly pools = [new Map<string, AddressPool>(), new Map<string, AddressPool>(), new Map<string, AddressPool>()] as const;
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

  private mapOf(secure: boolean | undefined): Map<string, AddressPool> {
    return this.pools[secure === undefined ? 0 : secure ? 1 : 2];
  }

  /**
   * A connection to `address`: synchronously when one is open, else a promise of one. `secure` is how to dial
   * it (`DialOptions.secure`; clients pass `secureFromMetadata(node.metadata)`), absent: the transport's default.
   */
  get(address: string, secure?: boolean): Connection | Promise<Connection> {
    if (this.closed) throw new MicroError("micro.client", 500, "the connection pool is closed");
    const pools = this.mapOf(secure);
    let pool = pools.get(address);
    if (pool === undefined) {
      pool = new AddressPool(this.transport, address, this.size, this.spreadAt, this.dialTimeout, secure);
      pools.set(address, pool);
    }
    return pool.get();
  }

  /** Open connections to an address (tests and diagnostics). */
  connections(address: string, secure?: boolean): number {
    return this.mapOf(secure).get(address)?.connections.length ?? 0;
  }

  /** Open connections to every address (the pool gauge of the metrics). */
  openConnections(): number {
    let n = 0;
    for (const map of this.pools) for (const pool of map.values()) n += pool.connections.length;
    return n;
  }

  /** Resolves when no dial to `address` is in flight (tests and diagnostics). */
  settled(address: string, secure?: boolean): Promise<void> {
    return this.mapOf(secure).get(address)?.settled() ?? Promise.resolve();
  }

  close(): void {
    this.closed = true;
    for (const pools of this.pools) {
      for (const pool of pools.values()) pool.close();
      pools.clear();
    }
  }
}
