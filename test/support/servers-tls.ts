/**
 * Throw-away TLS material for tests: a CA, a server certificate for 127.0.0.1 and a client certificate, made
 * with the system's `openssl` in a temporary directory (EC P-256 keys, valid one day).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary, type EtcdTls } from "./servers.js";

export interface TestPki extends EtcdTls {
  dir: string;
  remove(): Promise<void>;
}

export async function makeTestPki(): Promise<TestPki> {
  const openssl = findBinary("openssl", "openssl");
  const dir = await mkdtemp(join(tmpdir(), "micro-pki-"));
  const path = (name: string) => join(dir, name);
  const run = (...args: string[]) => execFileSync(openssl, args, { stdio: ["ignore", "ignore", "pipe"] });
  const key = (name: string) => run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path(name));

  key("ca.key");
  run("req", "-x509", "-new", "-key", path("ca.key"), "-out", path("ca.crt"), "-days", "1", "-subj", "/CN=micro-ts test CA");
  const issue = async (name: string, cn: string, extensions: string) => {
    key(`${name}.key`);
    run("req", "-new", "-key", path(`${name}.key`), "-out", path(`${name}.csr`), "-subj", `/CN=${cn}`);
    await writeFile(path(`${name}.ext`), extensions);
    run("x509", "-req", "-in", path(`${name}.csr`), "-CA", path("ca.crt"), "-CAkey", path("ca.key"), "-CAcreateserial",
      "-out", path(`${name}.crt`), "-days", "1", "-extfile", path(`${name}.ext`));
  };
  await issue("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  await issue("client", "micro-client", "extendedKeyUsage=clientAuth\n");
  return {
    dir,
    ca: path("ca.crt"),
    serverCert: path("server.crt"),
    serverKey: path("server.key"),
    clientCert: path("client.crt"),
    clientKey: path("client.key"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
