/**
 * Binding a transport's server to its address, for every transport: listen on `host:port` (every interface
 * for an empty host), a clear 500 when that fails (a taken port says so), and the real port when asked for 0.
 */
import type { Server } from "node:net";
import { MicroError } from "../errors/index.js";
import type { Logger } from "../logger/index.js";
import { TRANSPORT_ERROR_ID } from "./index.js";

/** Listen on `host:port`; resolves with the bound port. Later server errors are logged on `log`. */
export async function bindServer(server: Server, address: string, host: string, port: number, log: Logger): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) =>
      reject(new MicroError(TRANSPORT_ERROR_ID, 500, `cannot listen on ${address}: ${e.code ?? e.message}${e.code === "EADDRINUSE" ? " (the port is taken; use another or port 0)" : ""}`, undefined, { cause: e }));
    server.once("error", onError);
    server.listen(host === "" ? { port } : { host, port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
  server.on("error", (e) => log.error({ err: e, address }, "listener error"));
  const bound = server.address();
  return typeof bound === "object" && bound ? bound.port : port;
}
