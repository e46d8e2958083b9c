/**
 * The default transport, `tcp`: micro's own binary protocol over TCP (docs/protocol.md).
 *
 * ```ts
 * const transport = tcpTransport();
 * const listener = await transport.listen("127.0.0.1:0", (stream) => { … });
 * const conn = await transport.dial(listener.address);
 * ```
 */
import { createConnection, createServer, type Socket } from "node:net";
import { MicroError } from "../../errors/index.js";
import { logger } from "../../logger/index.js";
import type { Connection, DialOptions, ListenOptions, Listener, StreamHandler, Transport } from "../index.js";
import { formatAddress, parseAddress } from "../address.js";
import { bindServer, dialWithin } from "../listen.js";
import type { Settings } from "./frame.js";
import { ID, resolveOptions, type ResolvedOptions, type TcpTransportOptions } from "./options.js";
import { ClientSession } from "./client.js";
import { TcpListener } from "./server.js";

export type { TcpTransportOptions } from "./options.js";

function settings(opts: ResolvedOptions, maxMessageSize: number | undefined): Settings {
  return {
    maxConcurrentStreams: opts.maxConcurrentStreams,
    maxMessageSize: maxMessageSize ?? opts.maxMessageSize,
    initialWindow: opts.initialWindow,
    maxHeaderSize: opts.maxHeaderSize,
  };
}

/** Create the tcp transport (plugin name `"tcp"`). Options tune limits, flow control and keepalive. */
export function tcpTransport(options: TcpTransportOptions = {}): Transport {
  const opts = resolveOptions(options);
  const log = logger("transport");

  async function listen(address: string, handler: StreamHandler, listenOptions: ListenOptions = {}): Promise<Listener> {
    const { host, port } = parseAddress(address);
    const local = settings(opts, listenOptions.maxMessageSize);
    const server = createServer({ noDelay: true });
    let listener: TcpListener | undefined;
    server.on("connection", (socket: Socket) => (listener ? listener.accept(socket, handler, local) : socket.destroy()));
    const realPort = await bindServer(server, address, host, port, log);
    listener = new TcpListener(server, { host, port: realPort }, opts, log.child({ listener: formatAddress(host, realPort) }));
    return listener;
  }

  async function dial(address: string, dialOptions: DialOptions = {}): Promise<Connection> {
    const { host, port } = parseAddress(address);
    const target = formatAddress(host || "127.0.0.1", port);
    const timeout = dialOptions.timeout ?? 5000;
    const signal = dialOptions.signal;
    const fail = (why: string, cause?: unknown) => new MicroError(ID, 503, `dial ${target}: ${why}`, undefined, cause === undefined ? undefined : { cause });
    if (signal?.aborted) throw fail("aborted");
    const socket = createConnection({ host: host || "127.0.0.1", port, noDelay: true });
    let session: ClientSession | undefined;
    try {
      await dialWithin(timeout, signal, fail, (resolve, reject) => {
        socket.once("error", (e: NodeJS.ErrnoException) => reject(fail(e.code ?? e.message, e)));
        socket.once("connect", () => {
          session = new ClientSession(socket, opts, log, target, settings(opts, dialOptions.maxMessageSize));
          // Resolves when the server's preface and SETTINGS arrived: it is a micro server and we know its limits.
          session.ready.then(resolve, (e: MicroError) => reject(fail(`handshake failed: ${e.detail}`, e)));
        });
      });
    } catch (e) {
      if (session) session.destroy(undefined, "none");
      else socket.destroy();
      throw e;
    }
    return session!;
  }

  return { name: "tcp", listen, dial };
}
