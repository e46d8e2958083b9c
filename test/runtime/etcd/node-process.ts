/**
 * A service node in its own process, for the etcd tests: registers `<service>` / `<node>` in etcd with a TTL
 * and refreshes it every third of the TTL (as a service's register interval does), printing `registered` on
 * stdout after the first success. The test SIGKILLs it, so it never deregisters.
 *
 * Usage: node node-process.js <etcd-address> <service> <node-id> <ttl-seconds>
 */
import { etcdRegistry } from "../../../src/runtime/registry/etcd/index.js";

const [address, service, nodeId, ttlText] = process.argv.slice(2);
if (!address || !service || !nodeId || !ttlText) {
  process.stderr.write("usage: node node-process.js <etcd-address> <service> <node-id> <ttl-seconds>\n");
  process.exit(2);
}
const ttl = Number(ttlText);
const registry = etcdRegistry({ address, timeout: 1000 });
const record = {
  name: service,
  version: "1.0.0",
  metadata: {},
  endpoints: [],
  nodes: [{ id: nodeId, address: "127.0.0.1:1", metadata: { pid: String(process.pid) } }],
};

let announced = false;
async function tick(): Promise<void> {
  try {
    await registry.register(record, { ttl });
    if (!announced) {
      announced = true;
      process.stdout.write("registered\n");
    }
  } catch (error) {
    process.stderr.write(`register failed: ${(error as Error).message}\n`);
  }
}
await tick();
setInterval(tick, (ttl * 1000) / 3);
