/**
 * Reference servers for the gateway benchmark, in a process of their own (like the gateway):
 *
 * - `http`: a bare `node:http` server answering every request with a constant JSON body — the cost of one
 *   HTTP exchange with the benchmark's client, i.e. the floor of anything behind HTTP;
 * - `relay`: a bare `node:http` server that parses the JSON body, makes the RPC with the runtime client and
 *   answers the JSON reply — the least a gateway can do (no routing, checks, metadata, timeouts or logs).
 *
 * Prints `{"event":"ready","http":"host:port","relay":"host:port"}` on stdout.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { jsonTarget } from "../src/runtime/target/index.js";
import { newClient, readConfig, resolvePlugins } from "../src/index.js";

const plugins = await resolvePlugins(readConfig());
const client = newClient({ deps: { selector: plugins.selector, transport: plugins.transport, broker: plugins.broker } });
const target = jsonTarget("greeter", "Greeter.Hello");
const constant = JSON.stringify({ message: "Hello bench" });

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => then(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

const http = createServer((req, res) => readBody(req, () => answer(res, 200, constant)));
const relay = createServer((req, res) =>
  readBody(req, (body) => {
    client.call(target, JSON.parse(body.toString("utf8")), { contentType: "application/json" }).then(
      (rsp) => answer(res, 200, JSON.stringify(rsp)),
      (error: unknown) => answer(res, 500, JSON.stringify({ detail: String(error) })),
    );
  }),
);

// Idle keep-alive connections stay open while the other modes are measured (as fastify's 72 s default allows).
for (const server of [http, relay]) server.keepAliveTimeout = 120_000;
const listen = (server: typeof http): Promise<string> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
process.stdout.write(JSON.stringify({ event: "ready", http: await listen(http), relay: await listen(relay) }) + "\n");
process.once("SIGTERM", () => process.exit(0));
