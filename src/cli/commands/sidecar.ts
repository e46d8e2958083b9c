/**
 * `micro sidecar`: registration, discovery, health checking, RPC and pub/sub over HTTP for an app in any
 * language.
 */
import type { CommandModule } from "yargs";
import type { SidecarArguments } from "./lib/sidecar.js";

export const sidecarCommand: CommandModule<object, SidecarArguments> = {
  command: "sidecar",
  describe: "Run the sidecar: an HTTP API for apps in other languages (registry, RPC, pub/sub, health checks)",
  builder: (y) =>
    y
      .option("address", { type: "string", default: "127.0.0.1:8081", describe: "Listen address of the HTTP API, host:port" })
      .option("app_name", { type: "string", describe: "Register the app under this service name (needs --app_address)" })
      .option("app_version", { type: "string", describe: "The app's version in the registry (default latest)" })
      .option("app_address", { type: "string", describe: "Where the app serves HTTP, host:port or http://host:port: calls to Service.Method are POSTed to /Service/Method" })
      .option("app_health", { type: "string", describe: "The app's health URL (2xx = healthy); while it fails the app is deregistered" })
      .option("app_endpoints", { type: "string", array: true, describe: "Endpoints the app serves, e.g. Greeter.Hello (repeatable or comma-separated)" })
      .option("app_subscribe", { type: "string", array: true, describe: "topic=/path: POST each message on topic to the app's path (repeatable)" })
      .option("health_interval", { type: "string", describe: "How often --app_health is checked, e.g. 5s (default 5s)" })
      .option("app_timeout", { type: "string", describe: "How long the app gets to answer a call or a message, e.g. 10s (default 10s)" })
      .option("timeout", { type: "string", describe: "Timeout of calls made through the HTTP API, e.g. 10s (default 10s)" })
      .example(
        "$0 sidecar --app_name pyapp --app_address 127.0.0.1:5000 --app_health http://127.0.0.1:5000/health --app_endpoints Greeter.Hello",
        "serve a Python app as service pyapp",
      ) as never,
  handler: async (args) => {
    const { runSidecar } = await import("./lib/sidecar.js");
    await runSidecar(args);
  },
};
