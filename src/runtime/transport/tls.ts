/**
 * TLS for every transport, in one place: what a user gives (PEM text or file paths), how it is checked, and
 * the `node:tls` options a server and a client derive from it. The tcp and grpc transports, the direct broker
 * (through its transport) and the gateway's backend calls (through the client) all take this shape.
 *
 * - Server: `cert` + `key` are presented to clients. With `ca` as well, clients must present a certificate
 *   signed by it (mTLS) and are rejected otherwise.
 * - Client: `ca` verifies the server (without it, the system's roots). `cert` + `key` are presented when the
 *   server asks for one (mTLS).
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions, TlsOptions } from "node:tls";
import { MicroError } from "../errors/index.js";
import { TRANSPORT_ERROR_ID } from "./index.js";

/** PEM text (string or bytes) of the certificate chain, its private key and the CA bundle. */
export interface TransportTls {
  /** This side's certificate chain, PEM. A server needs it; a client presents it for mTLS. */
  readonly cert?: string | Uint8Array;
  /** The private key of `cert`, PEM. */
  readonly key?: string | Uint8Array;
  /** CA certificates, PEM. Server: require client certificates signed by them (mTLS). Client: verify the server with them. */
  readonly ca?: string | Uint8Array;
}

/** File paths of the same three, as the `--transport_tls_cert/key/ca` flags give them. */
export interface TransportTlsFiles {
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
}

function bad(detail: string): MicroError {
  return new MicroError(TRANSPORT_ERROR_ID, 400, detail);
}

/** True when any of the three is set. */
export function hasTls(files: TransportTlsFiles | TransportTls | undefined): boolean {
  return files !== undefined && (files.cert !== undefined || files.key !== undefined || files.ca !== undefined);
}

/**
 * Read the files named by the flags. A missing or unreadable file, or a certificate without its key (or the
 * reverse), is a 400 `MicroError` naming the flag: nothing starts half-secured.
 */
export function loadTlsFiles(files: TransportTlsFiles): TransportTls {
  const read = (flag: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined || path === "") return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw bad(`--transport_tls_${flag} ${JSON.stringify(path)} cannot be read: ${(e as Error).message}`);
    }
  };
  const tls: TransportTls = { cert: read("cert", files.cert), key: read("key", files.key), ca: read("ca", files.ca) };
  checkPair(tls, "--transport_tls_cert", "--transport_tls_key");
  return tls;
}

function checkPair(tls: TransportTls, certName: string, keyName: string): void {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw bad(tls.cert === undefined ? `${keyName} is set without ${certName}: give both` : `${certName} is set without ${keyName}: give both`);
  }
}

const pem = (v: string | Uint8Array): string | Buffer => (typeof v === "string" ? v : Buffer.from(v));

/**
 * `node:tls` server options: the certificate and key (required), and with a CA, client certificates required
 * and verified against it (mTLS).
 */
export function serverTlsOptions(tls: TransportTls): TlsOptions {
  checkPair(tls, "cert", "key");
  if (tls.cert === undefined || tls.key === undefined) throw bad("a TLS server needs a certificate and its key (--transport_tls_cert, --transport_tls_key)");
  const mutual = tls.ca !== undefined;
  return {
    cert: pem(tls.cert),
    key: pem(tls.key),
    ...(mutual ? { ca: pem(tls.ca!), requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/**
 * `node:tls` client options for a server at `host`: the server is verified (against `ca`, else the system
 * roots), and the client's own certificate is offered when given.
 */
export function clientTlsOptions(tls: TransportTls, host: string): ConnectionOptions {
  checkPair(tls, "cert", "key");
  const ip = /^[\d.]+$/.test(host) || host.includes(":");
  return {
    rejectUnauthorized: true,
    ...(ip ? {} : { servername: host }),
    ...(tls.ca !== undefined ? { ca: pem(tls.ca) } : {}),
    ...(tls.cert !== undefined && tls.key !== undefined ? { cert: pem(tls.cert), key: pem(tls.key) } : {}),
  };
}
