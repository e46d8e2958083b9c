/**
 * The grpc transport (`--transport grpc`): standard gRPC over HTTP/2, cleartext (h2c) or TLS, so gRPC tools
 * and peers in any language call micro-ts services and micro-ts calls them (docs/grpc.md). The same server,
 * handlers and wrappers run over it as over `tcp`.
 *
 * ```ts
 * const transport = grpcTransport();                       // or grpcTransport({ tls: { cert, key, ca } })
 * const listener = await transport.listen("127.0.0.1:0", (stream) => { … });
 * const conn = await transport.dial(listener.address);
 * ```
 */
import { connect, type ClientHttp2Session, type SecureClientSessionOptions } from "node:http2";
import { MicroError } from "../../errors/index.js";
import { logger } from "../../logger/index.js";
import type { Connection, DialOptions, ListenOptions, Listener, StreamHandler, Transport } from "../index.js";
import { formatAddress, listenInRange, parseAddress } from "../address.js";
import { bindServer, dialWithin } from "../listen.js";
import { clientTlsOptions } from "../tls.js";
import { GrpcConnection } from "./client.js";
import { ID, resolveOptions, type GrpcTransportOptions } from "./options.js";
import { GrpcListener, createHttp2Server } from "./server.js";

export type { GrpcTransportOptions } from "./options.js";
export { GRPC_SERVICES_KEY, grpcPath } from "./headers.js";
export { GrpcStatus, toGrpcStatus, fromGrpcStatus } from "./status.js";

/** Create the grpc transport (plugin name `"grpc"`). Options tune limits, keepalive, compression and TLS. */
export function grpcTransport(options: GrpcTransportOptions = {}): Transport {
  const opts = resolveOptions(options);
  const log = logger("transport");

  async function listen(address: string, handler: StreamHandler, listenOptions: ListenOptions = {}): Promise<Listener> {
    // A port range (host:8000-8010) listens on its first free port.
    return listenInRange(
      address,
      async (host, port) => {
        const server = createHttp2Server(opts);
        const realPort = await bindServer(server, formatAddress(host, port), host, port, log);
        return new GrpcListener(server, host, realPort, opts, handler, listenOptions.maxMessageSize ?? opts.maxMessageSize, log.child({ listener: formatAddress(host, realPort) }));
      },
      ID,
    );
  }

  async function dial(address: string, dialOptions: DialOptions = {}): Promise<Connection> {
    const { host, port } = parseAddress(address);
    const h = host || "127.0.0.1";
    const target = formatAddress(h, port);
    const timeout = dialOptions.timeout ?? 5000;
    const signal = dialOptions.signal;
    const fail = (why: string, cause?: unknown) => new MicroError(ID, 503, `dial ${target}: ${why}`, undefined, cause === undefined ? undefined : { cause });
    if (signal?.aborted) throw fail("aborted");
    const secure = opts.tls !== undefined;
    const sessionOptions: SecureClientSessionOptions = {
      settings: { initialWindowSize: opts.initialWindow, maxHeaderListSize: opts.maxHeaderSize, enablePush: false },
      ...(secure ? { ...clientTlsOptions(opts.tls!, h), ALPNProtocols: ["h2"] } : {}),
    };
    const session: ClientHttp2Session = connect(`${secure ? "https" : "http"}://${target}`, sessionOptions);
    try {
      await dialWithin(timeout, signal, fail, (resolve, reject) => {
        session.once("error", (e: NodeJS.ErrnoException) =>
          reject(fail(e.code === "ECONNRESET" && secure ? `${e.code} (is the server speaking TLS? check its certificate and --transport_tls_* settings)` : `${e.code ?? e.message}${/wrong version number|packet length too long/.test(e.message) ? " (the server is not TLS; dial without tls)" : ""}`, e)),
        );
        session.once("close", () => reject(fail(secure ? "the connection closed during the TLS/HTTP2 handshake (a mTLS server that wants a client certificate? a plaintext server?)" : "the connection closed during the HTTP/2 handshake (is it a gRPC server? a TLS one needs tls options)")));
        session.once("remoteSettings", () => resolve());
      });
    } catch (e) {
      session.destroy();
      throw e;
    }
    try {
      session.setLocalWindowSize(opts.initialWindow * 16);
    } catch (err) {
      log.debug({ err }, "cannot widen the connection window");
    }
    return new GrpcConnection(session, target, opts, dialOptions.maxMessageSize ?? opts.maxMessageSize, log);
  }

  return { name: "grpc", listen, dial };
}
