/**
 * The default transport, `tcp`: micro's own binary protocol over TCP (docs/protocol.md).
 *
 * ```ts
 * const transport = tcpTransport();
 * const listener = await transport.listen("127.0.0.1:0", (stream) => { … });
 * const conn = await transport.dial(listener.address);
 * ```
 *
 * With `tls` (a certificate and key) listeners serve TLS and with a CA as well require client certificates
 * (mTLS); dials use TLS toward secure nodes (`DialOptions.secure`). See tls.ts and the `tls` option.
 */
import { createConnection, createServer, type Socket } from "node:net";
import { Server as TlsServer, connect as tlsConnect, type TLSSocket } from "node:tls";
import { MicroError } from "../../errors/index.js";
import { logger } from "../../logger/index.js";
import type { Connection, DialOptions, ListenOptions, Listener, StreamHandler, Transport } from "../index.js";
import { formatAddress, listenInRange, parseAddress } from "../address.js";
import { bindServer, dialWithin } from "../listen.js";
import type { Settings } from "./frame.js";
import { ID, resolveOptions, type ResolvedOptions, type TcpTransportOptions } from "./options.js";
import { ClientSession } from "./client.js";
import { TcpListener, refuseConnection } from "./server.js";
import { PLAINTEXT_REFUSED, clientCertificateRefused, clientTlsOptions, describeTlsFailure, noClientTlsDetail, serverTlsOptions, servesTls } from "../tls.js";

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
  const serveTls = servesTls(opts.tls);
  const serverTls = serveTls ? serverTlsOptions(opts.tls!) : undefined;

  /**
   * A TLS listener's front door: the first byte tells a TLS ClientHello (0x16, a handshake record) from a
   * plaintext client, which is answered with a micro GOAWAY saying that this node serves TLS (instead of a
   * reset it could not explain). TLS connections go on to `tlsServer`, which never listens itself.
   */
  function sniff(socket: Socket, tlsServer: TlsServer): void {
    const timer = setTimeout(() => socket.destroy(), opts.handshakeTimeout);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    // Until the session owns the socket: a peer that resets before its first byte is no one's error.
    socket.on("error", (e) => log.debug({ err: e }, "connection failed before the TLS handshake"));
    socket.once("data", (chunk: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      if (chunk[0] !== 0x16) {
        log.debug({ peer: `${socket.remoteAddress}:${socket.remotePort}` }, "refusing a plaintext connection to a TLS listener");
        refuseConnection(socket, PLAINTEXT_REFUSED);
        return;
      }
      socket.unshift(chunk);
      tlsServer.emit("connection", socket);
    });
  }

  /**
   * With a CA (mTLS) the client's certificate is checked here rather than by OpenSSL, so that a client without
   * one, or with one from another CA, is told why in a GOAWAY instead of seeing a reset after its handshake.
   */
  function tlsServerFor(accept: (s: Socket) => void): TlsServer {
    const mutual = serverTls!.requestCert === true;
    const t = new TlsServer({ ...serverTls, rejectUnauthorized: false, handshakeTimeout: opts.handshakeTimeout });
    t.on("secureConnection", (s: TLSSocket) => {
      if (mutual && !s.authorized) {
        const reason = clientCertificateRefused(s.getPeerCertificate().raw !== undefined, s.authorizationError);
        log.info({ peer: `${s.remoteAddress}:${s.remotePort}` }, `refusing a TLS client: ${reason}`);
        refuseConnection(s, reason);
        return;
      }
      accept(s);
    });
    t.on("tlsClientError", (e: Error, s: TLSSocket) => {
      log.info({ peer: `${s.remoteAddress}:${s.remotePort}`, code: (e as NodeJS.ErrnoException).code }, `TLS handshake with a client failed: ${e.message}`);
    });
    return t;
  }

  async function listen(address: string, handler: StreamHandler, listenOptions: ListenOptions = {}): Promise<Listener> {
    const local = settings(opts, listenOptions.maxMessageSize);
    // A port range (host:8000-8010) listens on its first free port.
    return listenInRange(
      address,
      async (host, port) => {
        const server = createServer({ noDelay: true });
        let listener: TcpListener | undefined;
        const accept = (socket: Socket): void => (listener ? listener.accept(socket, handler, local) : void socket.destroy());
        const tlsServer = serveTls ? tlsServerFor(accept) : undefined;
        server.on("connection", tlsServer ? (socket: Socket) => sniff(socket, tlsServer) : accept);
        const realPort = await bindServer(server, formatAddress(host, port), host, port, log);
        listener = new TcpListener(server, { host, port: realPort }, opts, log.child({ listener: formatAddress(host, realPort) }));
        return listener;
      },
      ID,
    );
  }

  async function dial(address: string, dialOptions: DialOptions = {}): Promise<Connection> {
    const { host, port } = parseAddress(address);
    const target = formatAddress(host || "127.0.0.1", port);
    const timeout = dialOptions.timeout ?? 5000;
    const signal = dialOptions.signal;
    const fail = (why: string, cause?: unknown) => new MicroError(ID, 503, `dial ${target}: ${why}`, undefined, cause === undefined ? undefined : { cause });
    if (signal?.aborted) throw fail("aborted");
    const secure = dialOptions.secure ?? opts.tls !== undefined;
    if (secure && opts.tls === undefined) throw new MicroError(ID, 503, noClientTlsDetail(target));
    const connectTo = { host: host || "127.0.0.1", port };
    const socket = secure ? tlsConnect({ ...connectTo, ...clientTlsOptions(opts.tls!, connectTo.host) }) : createConnection({ ...connectTo, noDelay: true });
    // A TLS failure is explained in words (plaintext node, missing or refused client certificate, unknown CA).
    const why = (e: unknown, fallback: string) => (secure ? describeTlsFailure(e) : undefined) ?? fallback;
    let session: ClientSession | undefined;
    try {
      await dialWithin(timeout, signal, fail, (resolve, reject) => {
        socket.once("error", (e: NodeJS.ErrnoException) => reject(fail(why(e, e.code ?? e.message), e)));
        socket.once(secure ? "secureConnect" : "connect", () => {
          session = new ClientSession(socket, opts, log, target, settings(opts, dialOptions.maxMessageSize));
          // Resolves when the server's preface and SETTINGS arrived: it is a micro server and we know its limits.
          // A server that refused the connection said why (e.g. it serves TLS and this dial was plaintext).
          session.ready.then(resolve, (e: MicroError) => reject(fail(session!.refusal ?? why(e, `handshake failed: ${e.detail}`), e)));
        });
      });
    } catch (e) {
      if (session) session.destroy(undefined, "none");
      else socket.destroy();
      throw e;
    }
    return session!;
  }

  return { name: "tcp", secure: serveTls, listen, dial };
}
