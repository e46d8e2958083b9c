/**
 * The small HTTP server behind the operational endpoints (`/metrics`, `/health/*`): GET routes on a
 * `host:port`, answered by async functions, off the RPC port. Shared by the metrics and health servers of
 * services, the gateway and the web dashboard. A route that throws answers 500 with the error logged.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { logger } from "../logger/index.js";
import { formatAddress, parseAddress } from "../transport/address.js";

/** What a route answers. */
export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
}

export type AdminRoute = () => Promise<AdminResponse> | AdminResponse;

export interface AdminServer {
  /** The bound `host:port`. */
  readonly address: string;
  close(): Promise<void>;
}

const log = logger("admin");

/**
 * Listen on `address` (`host:port`; port 0 picks one) and answer GET/HEAD of each path in `routes`; other
 * paths 404, other methods 405. @throws MicroError (400) for a malformed address; the listen error otherwise.
 */
export async function serveAdmin(address: string, routes: Readonly<Record<string, AdminRoute>>, what: string): Promise<AdminServer> {
  const { host, port } = parseAddress(address);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    const send = (r: AdminResponse): void => {
      res.writeHead(r.status, { "content-type": r.contentType, "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : r.body);
    };
    if (route === undefined) return send({ status: 404, contentType: "text/plain", body: `not found; this ${what} server answers ${Object.keys(routes).join(", ")}\n` });
    if (req.method !== "GET" && req.method !== "HEAD") return send({ status: 405, contentType: "text/plain", body: "use GET\n" });
    Promise.resolve()
      .then(route)
      .then(send, (err: unknown) => {
        log.warn({ err, path }, `${what} route failed`);
        send({ status: 500, contentType: "text/plain", body: `${(err as Error)?.message ?? String(err)}\n` });
      });
  });
  // Probes and scrapers use short connections; do not let one hold a stop open.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host || "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const bound = formatAddress(a.address, a.port);
  log.info({ address: bound }, `${what} server listening`);
  return {
    address: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
