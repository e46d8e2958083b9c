/**
 * `micro web`: the web dashboard and the proxy to web apps.
 */
import type { CommandModule } from "yargs";
import type { WebArguments } from "./lib/web.js";

export const webCommand: CommandModule<object, WebArguments> = {
  command: "web",
  describe: "Run the web dashboard (services, calls, streams, events, console) and the proxy to web apps",
  builder: (y) =>
    y
      .option("address", { type: "string", default: "127.0.0.1:8082", describe: "Listen address host:port (loopback by default)" })
      .option("namespace", { type: "string", default: "web", describe: "Web apps are <namespace>.<name> services with protocol: http nodes, proxied at /<name>/" })
      .option("auth", { choices: ["none", "token", "basic"] as const, default: "none" as const, describe: "Require a credential for every request" })
      .option("auth_token", { type: "string", describe: "The token of --auth token (env MICRO_WEB_AUTH_TOKEN; generated and printed when absent)" })
      .option("auth_basic", { type: "string", describe: "user:password of --auth basic (env MICRO_WEB_AUTH_BASIC)" })
      .option("timeout", { type: "string", describe: "Call timeout, e.g. 10s (default 10s)" })
      .example("$0 web", "open http://127.0.0.1:8082")
      .example("$0 web --address :8082 --auth token", "listen on every interface; print the token to open it with") as never,
  handler: async (args) => {
    const { runWeb } = await import("./lib/web.js");
    await runWeb(args);
  },
};
