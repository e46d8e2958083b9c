/**
 * Throw-away TLS material for the etcd tests: a CA, a server certificate for 127.0.0.1 and a client
 * certificate ({@link makeCerts}) in a temporary directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EtcdTls } from "./servers.js";
import { makeCerts } from "./certs.js";

export interface TestPki extends EtcdTls {
  dir: string;
  remove(): Promise<void>;
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "micro-pki-"));
  const certs = makeCerts(dir);
  return {
    dir,
    ca: certs.ca.certFile,
    serverCert: certs.server.certFile,
    serverKey: certs.server.keyFile,
    clientCert: certs.client.certFile,
    clientKey: certs.client.keyFile,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
