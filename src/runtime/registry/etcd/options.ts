/**
 * Options of the etcd registry, completed from `MICRO_REGISTRY_*` environment variables for what a flag
 * cannot carry (credentials, TLS files).
 */
import { readFileSync } from "node:fs";
import { MicroError } from "../../errors/index.js";
import { nonEmpty, positiveMs } from "../../internal/option-values.js";

/** The error id of the etcd registry (`micro.registry.<impl>`): bad options, bad records, failed calls. */
export const ID = "micro.registry.etcd";

/** A PEM file path, or its contents. */
export type PemSource = string | Uint8Array;

export interface Options {
  /**
   * Comma-separated etcd endpoints, `host:port` (or `http(s)://host:port`). Default `127.0.0.1:2379`;
   * the `--registry_address` flag / `MICRO_REGISTRY_ADDRESS`.
   */
  address?: string;
  /** The endpoints as a list (what the `--registry_address` plugin table passes); wins over `address`. */
  addresses?: readonly string[];
  /** etcd user (default `MICRO_REGISTRY_USERNAME`). Requires `password`. */
  username?: string;
  /** etcd password (default `MICRO_REGISTRY_PASSWORD`). */
  password?: string;
  /**
   * TLS to etcd: CA, client certificate and key as file paths or PEM contents (defaults
   * `MICRO_REGISTRY_TLS_CA`, `MICRO_REGISTRY_TLS_CERT`, `MICRO_REGISTRY_TLS_KEY`, file paths). Setting any of
   * them switches the endpoints to `https://`.
   */
  tls?: { ca?: PemSource; cert?: PemSource; key?: PemSource };
  /** Key prefix of the registry (default `/micro/registry/`, shared with Go Micro). */
  prefix?: string;
  /** Milliseconds to wait for a connection to etcd (default 2000). */
  dialTimeout?: number;
  /**
   * Milliseconds any one registry call may take before it fails (default 3000). Failing promptly lets
   * callers fall back to cached records while etcd is unreachable.
   */
  timeout?: number;
}

/** Options with defaults and environment applied. */
export interface ResolvedOptions {
  hosts: string[];
  /** The endpoints as given, for messages. */
  address: string;
  auth?: { username: string; password: string };
  credentials?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer };
  prefix: string;
  dialTimeout: number;
  timeout: number;
}


/** @throws MicroError (400, {@link ID}) for a bad address, half a credential or TLS pair, an unreadable PEM file or a bad timeout. */
export function resolveOptions(options: Options = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const address = (options.addresses && options.addresses.length > 0 ? options.addresses.join(",") : options.address ?? "").trim() || "127.0.0.1:2379";
  const ca = options.tls?.ca ?? nonEmpty(env.MICRO_REGISTRY_TLS_CA);
  const cert = options.tls?.cert ?? nonEmpty(env.MICRO_REGISTRY_TLS_CERT);
  const key = options.tls?.key ?? nonEmpty(env.MICRO_REGISTRY_TLS_KEY);
  const secure = options.tls !== undefined || ca !== undefined || cert !== undefined || key !== undefined;
  if ((cert === undefined) !== (key === undefined)) {
    throw MicroError.badRequest(ID, "etcd TLS needs both a client certificate and its key (tls.cert and tls.key, or MICRO_REGISTRY_TLS_CERT and MICRO_REGISTRY_TLS_KEY)");
  }

  const hosts = address.split(",").map((entry) => entry.trim()).map((entry) => {
    if (entry === "") throw MicroError.badRequest(ID, `empty entry in etcd address "${address}"; expected host:port[,host:port…]`);
    if (/^https?:\/\//.test(entry)) return entry;
    if (entry.includes("://")) throw MicroError.badRequest(ID, `unsupported scheme in etcd address "${entry}"; use host:port, http:// or https://`);
    return `${secure ? "https" : "http"}://${entry}`;
  });

  const username = options.username ?? nonEmpty(env.MICRO_REGISTRY_USERNAME);
  const password = options.password ?? env.MICRO_REGISTRY_PASSWORD;
  if (username === undefined && nonEmpty(password) !== undefined) {
    throw MicroError.badRequest(ID, "an etcd password was given without a username (set MICRO_REGISTRY_USERNAME or the username option)");
  }

  let prefix = options.prefix ?? "/micro/registry/";
  if (!prefix.endsWith("/")) prefix += "/";

  const dialTimeout = positiveMs(options.dialTimeout, 2000, ID, "etcd registry", "dialTimeout");
  const timeout = positiveMs(options.timeout, 3000, ID, "etcd registry", "timeout");

  return {
    hosts,
    address,
    auth: username !== undefined ? { username, password: password ?? "" } : undefined,
    credentials: secure
      ? {
          // grpc uses the system's roots when no CA is given.
          rootCertificate: (ca !== undefined ? pem(ca, "CA") : undefined) as Buffer,
          certChain: cert !== undefined ? pem(cert, "certificate") : undefined,
          privateKey: key !== undefined ? pem(key, "key") : undefined,
        }
      : undefined,
    prefix,
    dialTimeout,
    timeout,
  };
}

function pem(source: PemSource, what: string): Buffer {
  if (typeof source !== "string") return Buffer.from(source);
  if (source.includes("-----BEGIN")) return Buffer.from(source);
  try {
    return readFileSync(source);
  } catch (error) {
    throw MicroError.badRequest(ID, `cannot read the etcd TLS ${what} file "${source}": ${(error as Error).message}`);
  }
}
