/**
 * Back-pressure for clients that pipeline requests and do not read the responses (issue 11, "Slow and
 * misbehaving peers"). Node's HTTP server reads every pipelined request of a keep-alive connection and starts
 * its handler at once; it pauses the socket only when the responses already written exceed the socket's
 * buffer, which never happens while the handlers are still waiting for their backend calls. A client that
 * writes thousands of requests and never reads makes the gateway hold every request, every backend call and
 * every finished response in memory.
 *
 * Per connection, {@link limitSlowClients}:
 * - stops reading the socket while `maxPipelined` requests are in flight (answered in order, not yet sent),
 *   and reads again when one finishes — at most one socket read (64 KiB) of requests more is parsed;
 * - stops reading while more than `maxBufferedBytes` of response bytes wait for the client to read them;
 * - closes the connection when its unsent response bytes (more than the socket buffer takes) have not shrunk
 *   for `stallTimeout` ms: a client that never reads.
 *
 * WebSocket upgrades and the responses' own streaming are not affected: an SSE stream counts as one request
 * in flight, and a client that stops reading it is closed after `stallTimeout` like any other.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { positiveNumber } from "../runtime/internal/option-values.js";

export interface BackpressureOptions {
  /** Requests in flight per connection before the gateway stops reading more (default 4). */
  maxPipelined?: number;
  /** Unsent response bytes per connection before the gateway stops reading more (default 1 MiB). */
  maxBufferedBytes?: number;
  /**
   * A connection whose unsent response bytes (beyond the socket's buffer) do not shrink for this long is
   * closed (milliseconds, default 15 000).
   */
  stallTimeout?: number;
}

export const backpressureDefaults: Required<BackpressureOptions> = {
  maxPipelined: 4,
  maxBufferedBytes: 1024 * 1024,
  stallTimeout: 15_000,
};

interface Connection {
  inFlight: number;
  /** True while this module paused the socket (Node's server may pause it too; it resumes its own pauses). */
  paused: boolean;
  stall: NodeJS.Timeout | undefined;
  /** Unsent bytes when the stall timer was armed: the buffer must shrink below this to count as progress. */
  stalledAt: number;
}

/** Install the per-connection limits on `server` (an `http.Server`, e.g. fastify's `app.server`). */
export function limitSlowClients(server: Server, options: BackpressureOptions = {}): void {
  const limits = { ...backpressureDefaults, ...definedOnly(options) };
  for (const [name, value] of Object.entries(limits)) positiveNumber(value, 0, "micro.api", "gateway backpressure", name);
  const connections = new WeakMap<Socket, Connection>();

  const buffered = (socket: Socket) => socket.writableLength > limits.maxBufferedBytes;

  const check = (socket: Socket, c: Connection): void => {
    if (socket.destroyed) {
      clearTimeout(c.stall);
      return;
    }
    const full = buffered(socket);
    const over = c.inFlight >= limits.maxPipelined || full;
    // Node's server resumes the socket on its own drain when its responses no longer fill the buffer:
    // while over a limit, pause it again whenever it is found reading.
    if (over && (!c.paused || !(socket as HttpSocket)._paused)) {
      c.paused = true;
      pause(socket);
    } else if (!over && c.paused) {
      c.paused = false;
      resume(socket);
    }
    const waiting = full || socket.writableNeedDrain;
    if (waiting && !c.stall) armStall(socket, c);
    else if (!waiting && c.stall) {
      clearTimeout(c.stall);
      c.stall = undefined;
    }
  };

  const armStall = (socket: Socket, c: Connection): void => {
    c.stalledAt = socket.writableLength;
    c.stall = setTimeout(() => {
      c.stall = undefined;
      if (socket.destroyed || socket.writableLength === 0) return;
      // Some progress: the client reads, slowly. None: it never reads; the connection is closed.
      if (socket.writableLength < c.stalledAt) armStall(socket, c);
      else socket.destroy();
    }, limits.stallTimeout);
    c.stall.unref();
  };

  const connection = (socket: Socket): Connection => {
    let c = connections.get(socket);
    if (!c) {
      const created: Connection = { inFlight: 0, paused: false, stall: undefined, stalledAt: 0 };
      connections.set(socket, created);
      socket.on("drain", () => check(socket, created));
      socket.once("close", () => clearTimeout(created.stall));
      c = created;
    }
    return c;
  };

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const c = connection(socket);
    c.inFlight++;
    check(socket, c);
    res.once("close", () => {
      c.inFlight--;
      check(socket, c);
    });
    // A response ended while the client does not read grows the socket's buffer: look again then. ("finish"
    // would come only once the bytes reached the kernel, never for a client that does not read.)
    res.once("prefinish", () => check(socket, c));
  });
}

/**
 * Node's HTTP server keeps its own pause flag on the socket (`_paused`): while it is set, reading a request
 * body does not resume the socket, and the parser stops after the chunk it is parsing. A plain
 * `socket.pause()` would be undone by the next request whose body is read. The same flag and calls as Node's
 * own pause on a full socket buffer (lib/_http_server.js) are used here.
 */
interface HttpSocket extends Socket {
  _paused?: boolean;
  parser?: { pause(): void; resume(): void } | null;
}

function pause(socket: HttpSocket): void {
  socket._paused = true;
  socket.pause();
}

function resume(socket: HttpSocket): void {
  // Node paused it too (its responses fill the socket's buffer): its drain handler resumes it.
  if (socket.writableNeedDrain) return;
  socket._paused = false;
  socket.parser?.resume();
  socket.resume();
}

function definedOnly(options: BackpressureOptions): BackpressureOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as BackpressureOptions;
}
