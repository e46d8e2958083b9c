/**
 * The form of each plugin's address flag, checked before anything is built or written (`micro new` bakes
 * them into a project's `.env`): etcd takes `host:port`, the direct broker `host:port` or a port range
 * `host:8000-8010`, NATS `nats://host:port` or
 * `host:port`, RabbitMQ `amqp://[user:pass@]host:port[/vhost]` or `host:port`, the local registry a directory.
 */
import { MicroError } from "../errors/index.js";
import { parseAddress, parseAddressRange } from "../transport/address.js";
import type { ConfigValues } from "./flags.js";
import { addressList, defaultPlugins } from "./plugins.js";

function bad(flag: string, value: string, why: string): MicroError {
  return MicroError.badRequest("micro.config", `--${flag} "${value}": ${why}`);
}

function hostPort(flag: string, value: string, example: string, range = false): void {
  try {
    if (range) parseAddressRange(value);
    else parseAddress(value);
  } catch (error) {
    throw bad(flag, value, `${error instanceof MicroError ? error.detail.replace(/^invalid address "[^"]*": /, "") : String(error)}; e.g. ${example}`);
  }
}

/**
 * Check `--registry_address`, `--broker_address` and `--transport_address` against the chosen plugins.
 * @throws MicroError (400) naming the flag, the value and the expected form.
 */
export function checkPluginAddresses(values: ConfigValues): void {
  const registry = values.registry ?? defaultPlugins.registry;
  for (const a of addressList(values.registry_address) ?? []) {
    if (registry === "etcd") hostPort("registry_address", a, "127.0.0.1:2379");
    else if (registry === "local" && /[\r\n\0]/.test(a)) throw bad("registry_address", a, "a directory path");
  }
  const broker = values.broker ?? defaultPlugins.broker;
  for (const a of addressList(values.broker_address) ?? []) {
    if (broker === "nats") {
      const plain = a.replace(/^(nats|tls|ws|wss):\/\//, "");
      if (plain === a && a.includes("://")) throw bad("broker_address", a, "use nats://host:port");
      hostPort("broker_address", plain, "nats://127.0.0.1:4222");
    } else if (broker === "rabbitmq") {
      if (a.includes("://") && !/^amqps?:\/\//.test(a)) throw bad("broker_address", a, "use amqp://host:port");
      const plain = a.replace(/^amqps?:\/\/([^@/]*@)?/, "").replace(/\/.*$/, "");
      hostPort("broker_address", plain, "amqp://127.0.0.1:5672");
    } else if (broker === "direct") {
      hostPort("broker_address", a, "127.0.0.1:0 or 127.0.0.1:8000-8010", true);
    }
  }
}
