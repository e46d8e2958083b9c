/**
 * Throw-away certificates for TLS tests, made with the system's `openssl` (EC P-256 keys, valid one day):
 *
 * - a CA, a server certificate signed by it for `127.0.0.1`, `::1` and `localhost`, and a client certificate
 *   signed by it (mTLS);
 * - a second, unrelated CA and a client and a server certificate signed by that one, for the rejection cases
 *   (a client the server must refuse, a server the client must refuse).
 *
 * ```ts
 * const certs = makeCerts(dir);                  // writes the files into dir (which must exist)
 * tcpTransport({ tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert } });
 * ```
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary } from "./servers.js";

/** One certificate and its key: the file paths and their PEM text. */
export interface CertPair {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface TestCerts {
  dir: string;
  /** The CA that signs `server` and `client` (its key is in `ca.keyFile`). */
  ca: CertPair;
  /** Server certificate: SAN IP 127.0.0.1, IP ::1, DNS localhost; usable as server and client. */
  server: CertPair;
  /** Client certificate (CN micro-client), signed by `ca`. */
  client: CertPair;
  /** A CA that has nothing to do with `ca`. */
  otherCa: CertPair;
  /** A client certificate signed by `otherCa`: a server trusting `ca` must refuse it. */
  otherClient: CertPair;
  /** A server certificate for 127.0.0.1/localhost signed by `otherCa`: a client trusting `ca` must refuse it. */
  otherServer: CertPair;
}

/** Make the certificates in `dir` (an existing directory, e.g. from `mkdtemp`). Takes a few hundred ms. */
export function makeCerts(dir: string): TestCerts {
  const openssl = findBinary("openssl", "openssl");
  const path = (name: string) => join(dir, name);
  const run = (...args: string[]) => execFileSync(openssl, args, { stdio: ["ignore", "ignore", "pipe"] });
  const pair = (name: string): CertPair => ({
    certFile: path(`${name}.crt`),
    keyFile: path(`${name}.key`),
    cert: readFileSync(path(`${name}.crt`), "utf8"),
    key: readFileSync(path(`${name}.key`), "utf8"),
  });
  const key = (name: string) => run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path(`${name}.key`));
  const ca = (name: string, cn: string): CertPair => {
    key(name);
    run("req", "-x509", "-new", "-key", path(`${name}.key`), "-out", path(`${name}.crt`), "-days", "1", "-subj", `/CN=${cn}`);
    return pair(name);
  };
  const issue = (name: string, signer: string, cn: string, extensions: string): CertPair => {
    key(name);
    run("req", "-new", "-key", path(`${name}.key`), "-out", path(`${name}.csr`), "-subj", `/CN=${cn}`);
    writeFileSync(path(`${name}.ext`), extensions);
    run("x509", "-req", "-in", path(`${name}.csr`), "-CA", path(`${signer}.crt`), "-CAkey", path(`${signer}.key`), "-CAcreateserial",
      "-out", path(`${name}.crt`), "-days", "1", "-extfile", path(`${name}.ext`));
    return pair(name);
  };
  const serverExt = "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n";
  const clientExt = "extendedKeyUsage=clientAuth\n";
  return {
    dir,
    ca: ca("ca", "micro-ts test CA"),
    server: issue("server", "ca", "127.0.0.1", serverExt),
    client: issue("client", "ca", "micro-client", clientExt),
    otherCa: ca("other-ca", "some other CA"),
    otherClient: issue("other-client", "other-ca", "stranger", clientExt),
    otherServer: issue("other-server", "other-ca", "127.0.0.1", serverExt),
  };
}
