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
import { createSecureContext, type ConnectionOptions, type TlsOptions } from "node:tls";
import { MicroError } from "../errors/index.js";
import type { Metadata } from "../metadata/index.js";
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
 * Check TLS options given in code or read from files before anything listens or dials: a certificate without
 * its key, PEM that does not parse, or a key that does not match its certificate is a 400 `MicroError`
 * naming what is wrong (instead of a failure at the first connection).
 */
export function checkTls(tls: TransportTls): void {
  checkPair(tls, "tls.cert", "tls.key");
  try {
    createSecureContext({
      ...(tls.cert !== undefined && tls.key !== undefined ? { cert: pem(tls.cert), key: pem(tls.key) } : {}),
      ...(tls.ca !== undefined ? { ca: pem(tls.ca) } : {}),
    });
  } catch (e) {
    throw bad(`the TLS certificate, key or CA cannot be used: ${(e as Error).message} (give PEM text or files: --transport_tls_cert, --transport_tls_key, --transport_tls_ca)`);
  }
}

/** Whether these options let a server listen with TLS (a certificate and its key). */
export function servesTls(tls: TransportTls | undefined): boolean {
  return tls !== undefined && tls.cert !== undefined && tls.key !== undefined;
}

/**
 * The registry node metadata key a node serving TLS sets to `"true"` (Go Micro's key), so that clients dial
 * it with TLS.
 */
export const SECURE_METADATA_KEY = "secure";

/**
 * How to dial a node, from its registry metadata: `true` (TLS) when it says `secure: "true"`, `false` when it
 * has metadata without that (a registered plaintext node), and `undefined` for a node with no metadata at
 * all (a fixed address: the client's own configuration decides).
 */
export function secureFromMetadata(metadata: Metadata | undefined): boolean | undefined {
  if (metadata === undefined) return undefined;
  const v = metadata[SECURE_METADATA_KEY];
  if (v !== undefined) return v === "true";
  for (const _ in metadata) return false;
  return undefined;
}

/** What a client configured without TLS is told about a node that serves TLS. */
export function noClientTlsDetail(address: string): string {
  return `node ${address} serves TLS (secure: true) but this client has no TLS configured: set --transport_tls_ca (MICRO_TRANSPORT_TLS_CA), and --transport_tls_cert/--transport_tls_key if the node requires client certificates`;
}

/** What a TLS server answers a plaintext connection with (the client reports it). */
export const PLAINTEXT_REFUSED =
  "this node serves TLS and the connection is plaintext: configure the client with TLS (--transport_tls_ca, and --transport_tls_cert/--transport_tls_key if client certificates are required)";

const NO_CLIENT_CERT =
  "the node requires a client certificate (mTLS) and this client presented none: set --transport_tls_cert and --transport_tls_key to a certificate signed by the node's CA";
const CLIENT_CERT_REFUSED = "the node refused this client's certificate: it is not signed by a CA the node trusts (its --transport_tls_ca)";

/** Why a TLS server with a CA refuses a client: no certificate, or one it cannot verify (OpenSSL's reason). */
export function clientCertificateRefused(presented: boolean, why: Error | string | null | undefined): string {
  if (!presented) return NO_CLIENT_CERT;
  const reason = why instanceof Error ? ((why as NodeJS.ErrnoException).code ?? why.message) : why;
  return reason ? `${CLIENT_CERT_REFUSED} [${reason}]` : CLIENT_CERT_REFUSED;
}

/** OpenSSL codes on the client's side, and what they mean for the user. */
const TLS_FAILURES: ReadonlyArray<[readonly string[], string]> = [
  [["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG", "ERR_SSL_RECORD_LAYER_FAILURE", "ERR_SSL_HTTP_REQUEST"],
    "the node answered in plaintext: it does not serve TLS (dial it without TLS, or start it with --transport_tls_cert and --transport_tls_key)"],
  [["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"], NO_CLIENT_CERT],
  [["ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", "ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR", "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN"], CLIENT_CERT_REFUSED],
  [["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_GET_ISSUER_CERT", "CERT_SIGNATURE_FAILURE"],
    "the node's certificate is not signed by a CA this client trusts: set --transport_tls_ca to the CA that signed it"],
  [["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"], "the node's certificate is not valid now (expired or not yet valid)"],
  [["ERR_TLS_CERT_ALTNAME_INVALID"], "the node's certificate does not name the address dialled (its subjectAltName must list that host or IP)"],
];

/**
 * What a TLS failure means, in words a user can act on, from the OpenSSL or certificate code anywhere in the
 * error's `cause` chain; `undefined` when the error is not a TLS failure. Shared by every transport.
 */
export function describeTlsFailure(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      for (const [codes, text] of TLS_FAILURES) if (codes.includes(code)) return `${text} [${code}]`;
      if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) return `TLS handshake failed: ${(e as Error).message ?? code} [${code}]`;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
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
