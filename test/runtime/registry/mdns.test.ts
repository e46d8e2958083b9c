/**
 * What only the mDNS registry does, between two "machines": network namespaces made for this file and joined
 * by a veth pair (test/support/netns.ts), so every multicast packet stays inside them. Real service processes
 * and the real `micro` bin run in them with `--registry mdns` and nothing else configured. What every
 * registry does is in contract.test.ts (the mDNS registry runs it in a namespace too).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Registry, ServiceRecord } from "../../../src/runtime/registry/index.js";
import { Fixture, stop } from "../../support/process.js";
import { twoMachines, type Machine, type Network } from "../../support/netns.js";
import { eventually } from "./fixtures/child.js";
import { is, readEvents } from "./fixtures/events.js";
import { startHost, type Host } from "./fixtures/mdns-remote.js";
import { encodeEntry } from "../../../src/runtime/registry/mdns/encoding.js";
import { toEntries } from "../../../src/runtime/registry/records.js";
import { mdnsRegistry } from "../../../src/runtime/registry/mdns/index.js";
import { MicroError } from "../../../src/runtime/errors/index.js";

const MICRO_BIN = fileURLToPath(new URL("../../../../dist/micro.js", import.meta.url));
const GREETER = fileURLToPath(new URL("../../fixtures/cli/greeter-service.js", import.meta.url));
/** Zero configuration but the registry; short TTLs so a killed node leaves quickly. */
const ENV = { MICRO_REGISTRY: "mdns", MICRO_BROKER: "memory", MICRO_LOG_LEVEL: "warn", MICRO_SERVER_ADDRESS: "0.0.0.0:0", MICRO_REGISTER_TTL: "3", MICRO_REGISTER_INTERVAL: "1" };

let network: Network;
let hostA: Host;
let hostB: Host;
const processes: Fixture[] = [];

before(async () => {
  network = twoMachines();
  [hostA, hostB] = await Promise.all([startHost(network.a), startHost(network.b)]);
});

after(async () => {
  await Promise.all(processes.map((p) => stop(p)));
  await Promise.all([hostA?.stop(), hostB?.stop()]);
  network?.dispose();
});

/** Run `node <args>` inside `machine`'s namespace. */
function inside(machine: Machine, args: readonly string[], env: Record<string, string> = {}): Fixture {
  const [command, ...prefix] = machine.exec;
  const fixture = new Fixture(spawn(command!, [...prefix, process.execPath, ...args], { env: { ...process.env, ...ENV, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
  processes.push(fixture);
  return fixture;
}

/** `micro call` in `machine` until it answers (the first lookup listens 300 ms for answers; a loaded machine may need another). */
async function callFrom(machine: Machine, service: string, name: string): Promise<{ message: string }> {
  let last = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const call = inside(machine, [MICRO_BIN, "call", service, "Greeter.Hello", JSON.stringify({ name })]);
    const { code } = await call.exited;
    const out = call.events.map((e) => (e.event === "text" ? e.text : JSON.stringify(e))).join("\n");
    if (code === 0) {
      if (attempt > 0) console.log(`micro call ${service} from ${machine.ns} answered on attempt ${attempt + 1}`);
      return JSON.parse(out) as { message: string };
    }
    last = `exit ${code}: ${out} ${call.stderr}`;
  }
  throw new Error(`micro call ${service} from ${machine.ns} failed: ${last}`);
}

test("two machines find and call each other with zero configuration (IPv4)", async () => {
  const greeter = inside(network.a, [GREETER], { SERVICE_NAME: "greeter" });
  const echo = inside(network.b, [GREETER], { SERVICE_NAME: "echo" });
  await Promise.all([greeter.waitFor((e) => e.event === "ready", 30_000), echo.waitFor((e) => e.event === "ready", 30_000)]);
  assert.deepEqual(await callFrom(network.b, "greeter", "John"), { message: "Hello John" });
  assert.deepEqual(await callFrom(network.a, "echo", "Jane"), { message: "Hello Jane" });
});

test("a SIGKILLed node disappears from the other machine after its TTL", async () => {
  const registry = await hostB.registry();
  const events = readEvents(registry.watch({ service: "doomed" }));
  const doomed = inside(network.a, [GREETER], { SERVICE_NAME: "doomed" });
  const ready = await doomed.waitFor((e) => e.event === "ready", 30_000);
  const created = await events.next(is("create", "doomed"), "machine b hears of the node", 30_000);
  // Bound to 0.0.0.0: advertised under machine a's own address, with the port it listens on.
  assert.equal(created.service.nodes[0]!.address, `${network.a.ipv4}:${String(ready.address).split(":").pop()}`);
  doomed.kill("SIGKILL");
  await doomed.exited;
  // No goodbye from a killed process: the record's TTL (3 s) runs out on machine b.
  await events.next(is("delete", "doomed"), "the delete after the TTL", 30_000);
  assert.deepEqual(await registry.getService("doomed"), []);
  await registry.close();
});

/** A service with `count` endpoints, each with request and response shapes and metadata. */
function bigService(count: number): ServiceRecord {
  return {
    name: "catalogue",
    version: "3.1.4",
    metadata: { team: "inventory", description: "x".repeat(500) },
    endpoints: Array.from({ length: count }, (_, i) => ({
      name: `Catalogue.Method${i}`,
      request: { name: `Method${i}Request`, type: `catalogue.v1.Method${i}Request`, values: [{ name: "id", type: "string", values: [] }, { name: `field${i}`, type: "int64", values: [] }] },
      response: { name: `Method${i}Response`, type: `catalogue.v1.Method${i}Response`, values: [{ name: "items", type: "catalogue.v1.Item", values: [] }] },
      metadata: { stream: i % 4 === 0 ? "server" : "unary", http: JSON.stringify([{ method: "POST", path: `/v1/catalogue/method${i}` }]) },
    })),
    nodes: [{ id: "catalogue-1", address: `${network.a.ipv4}:9000`, metadata: { transport: "tcp", protocol: "micro" } }],
  };
}

test("a service with 200 endpoints registers on one machine and is read back whole on the other (--registry_address: interface name; group and interface address)", async () => {
  const [here, there] = await Promise.all([hostA.registry({ address: network.a.iface }), hostB.registry({ address: `224.0.0.251,${network.b.ipv4}` })]);
  const service = bigService(200);
  const txt = encodeEntry(toEntries(service, Date.now(), undefined)[0]!);
  assert.ok(txt.length > 3 && txt.every((chunk) => chunk.length <= 255), `the record travels split over TXT strings of at most 255 bytes (${txt.length} strings)`);
  await here.register(service, { ttl: 30 });
  let got: ServiceRecord[] = [];
  await eventually(async () => (got = await there.getService("catalogue")).length === 1, "machine b to read the service", 20_000);
  assert.deepEqual(got[0], service);
  await here.deregister(service);
  await eventually(async () => (await there.getService("catalogue")).length === 0, "the goodbye to remove it", 20_000);
  await Promise.all([here.close(), there.close()]);
});

test("IPv6: --registry_address ff02::fb,<interface> finds the other machine's node, and the goodbye removes it", async () => {
  const open = (host: Host, machine: Machine): Promise<Registry> => host.registry({ address: `ff02::fb,${machine.iface}`, domain: "v6" });
  const [here, there] = await Promise.all([open(hostA, network.a), open(hostB, network.b)]);
  const events = readEvents(there.watch({ service: "six" }));
  const service: ServiceRecord = { name: "six", version: "1", endpoints: [], nodes: [{ id: "six-1", address: `[${network.a.ipv6}]:9006`, metadata: {} }] };
  await here.register(service);
  const created = await events.next(is("create", "six"), "machine b hears of the node over IPv6", 20_000);
  assert.equal(created.service.nodes[0]!.address, `[${network.a.ipv6}]:9006`);
  await here.deregister(service);
  await events.next(is("delete", "six"), "the goodbye over IPv6", 20_000);
  await Promise.all([here.close(), there.close()]);
});

test("a bad --registry_address or option is a 400 of micro.registry.mdns saying what to give, before any socket opens", () => {
  const refused = (options: Parameters<typeof mdnsRegistry>[0], why: RegExp) =>
    assert.throws(() => mdnsRegistry(options), (e: unknown) => e instanceof MicroError && e.code === 400 && e.id === "micro.registry.mdns" && why.test(e.detail), JSON.stringify(options));
  refused({ address: "nosuch-if0" }, /neither a multicast group nor an interface of this machine/);
  refused({ address: "ff02::fb" }, /IPv6 mDNS \("ff02::fb"\) needs an interface/);
  refused({ address: "224.0.0.251,224.0.0.252" }, /two multicast groups/);
  refused({ address: "fe80::1" }, /needs its zone/);
  refused({ domain: "a.b" }, /invalid mDNS domain/);
  refused({ ttl: -1 }, /ttl must be a positive number of seconds/);
  refused({ port: 1.5 }, /whole number/);
});
