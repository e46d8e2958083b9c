/**
 * Port ranges (`host:8000-8010`, Go Micro's form): every listener — the tcp transport (so the server), the
 * direct broker and the gateway — listens on the first free port of the range through the one helper
 * `listenInRange` (transport/address.ts); all taken is an error naming the range; bad ranges are 400s.
 * Ranges are picked below the ephemeral port range (so port-0 listeners of other tests do not land in them),
 * checked free first, and blocked with real listeners.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { newGateway } from "../../../src/api/index.js";
import { directBroker } from "../../../src/runtime/broker/direct/index.js";
import { checkPluginAddresses } from "../../../src/runtime/config/index.js";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { newService, type RpcServer } from "../../../src/index.js";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import { listenInRange, parseAddressRange } from "../../../src/runtime/transport/address.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { FakeClient, FakeRegistry } from "../../api/fakes.js";

const blockers: Server[] = [];
after(async () => {
  await Promise.all(blockers.map((s) => new Promise((r) => s.close(r))));
});

/** Hold `port` on 127.0.0.1 with a plain listener; false if it is taken already. */
function block(port: number): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once("error", () => resolve(false));
    s.listen({ host: "127.0.0.1", port }, () => {
      blockers.push(s);
      resolve(true);
    });
  });
}

function release(port: number): Promise<void> {
  const i = blockers.findIndex((s) => (s.address() as { port: number }).port === port);
  const [s] = blockers.splice(i, 1);
  return new Promise((r) => s!.close(() => r()));
}

/**
 * `size` consecutive ports, all free right now, starting at a random base in 20000-30000; the first `taken`
 * of them are held by blockers (the rest released again), so a listener on the range must skip those.
 */
async function range(size: number, taken: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 10000);
    const held: number[] = [];
    let ok = true;
    for (let p = base; p < base + size && ok; p++) {
      if (await block(p)) held.push(p);
      else ok = false;
    }
    for (const p of held.slice(ok ? taken : 0)) await release(p);
    if (ok) return base;
  }
  throw new Error("no free run of ports found in 20000-30000");
}

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));

test("the tcp transport listens on the first free port of a range, skipping the taken ones", async () => {
  const base = await range(5, 2);
  const transport = tcpTransport();
  const listener = await transport.listen(`127.0.0.1:${base}-${base + 4}`, () => {});
  try {
    assert.equal(portOf(listener.address), base + 2);
    // It is a real listener: a client reaches it.
    const conn = await transport.dial(listener.address);
    await conn.close();
  } finally {
    await listener.close(0);
  }
});

test("a range whose ports are all taken is refused with an error naming the range", async () => {
  const base = await range(3, 3);
  const address = `127.0.0.1:${base}-${base + 2}`;
  await assert.rejects(tcpTransport().listen(address, () => {}), (e: unknown) => {
    assert.ok(e instanceof MicroError, String(e));
    assert.equal(e.id, "micro.transport");
    assert.match(e.detail, new RegExp(`cannot listen on ${address.replace(/\./g, "\\.")}: all 3 ports of the range are taken`));
    return true;
  });
});

test("bad ranges are 400 errors saying what is wrong, from the parser, the transport, the flags and the gateway", async () => {
  const cases: [string, RegExp][] = [
    ["127.0.0.1:9000-8000", /reversed: the first port must not exceed the last/],
    ["127.0.0.1:0-5", /must lie within 1-65535/],
    ["127.0.0.1:a-b", /must be two numbers, first-last/],
    [":8000-70000", /must lie within 1-65535/],
    ["127.0.0.1:8000-", /must be two numbers/],
  ];
  for (const [address, why] of cases) {
    const check = (id: string) => (e: unknown) => e instanceof MicroError && e.code === 400 && e.id === id && why.test(e.detail) && e.detail.includes(address.trim());
    assert.throws(() => parseAddressRange(address), check("micro.transport"), address);
    await assert.rejects(tcpTransport().listen(address, () => {}), check("micro.transport"), address);
    assert.throws(() => checkPluginAddresses({ broker: "direct", broker_address: address }), (e: unknown) => e instanceof MicroError && e.code === 400 && why.test(e.detail) && e.detail.includes("--broker_address"), address);
    const gw = newGateway({ client: new FakeClient(), registry: new FakeRegistry(), address });
    await assert.rejects(gw.start(), check("micro.api"), address);
    await gw.stop();
  }
  // A plain listener error (not EADDRINUSE) stops the loop at once and is passed on.
  let tries = 0;
  await assert.rejects(
    listenInRange("127.0.0.1:20000-20009", async () => {
      tries++;
      throw Object.assign(new Error("permission denied"), { code: "EACCES" });
    }),
    /permission denied/,
  );
  assert.equal(tries, 1);
});

test("a service's server, the direct broker and the gateway each take the first free port of their range", async () => {
  const base = await range(6, 1);
  const spec = `127.0.0.1:${base}-${base + 5}`;
  const registry = memoryRegistry();
  const service = newService({ name: "ranged", address: spec, registry, broker: memoryBroker(), handleSignals: false, argv: [], env: {} });
  const broker = directBroker({ registry, transport: tcpTransport(), address: spec });
  const gateway = newGateway({ client: new FakeClient(), registry: new FakeRegistry(), address: spec });
  try {
    await service.start();
    assert.equal(portOf((service.server() as RpcServer).address!), base + 1);
    await broker.connect();
    const received: string[] = [];
    await broker.subscribe("ranged.topic", (event) => void received.push(new TextDecoder().decode(event.message.body)));
    const [record] = await registry.getService("micro.broker.ranged.topic");
    assert.equal(portOf(record!.nodes[0]!.address), base + 2, "the broker's delivery listener took the next free port");
    await broker.publish("ranged.topic", { header: {}, body: new TextEncoder().encode("hi") });
    assert.deepEqual(received, ["hi"]);
    await gateway.start();
    assert.equal(portOf(gateway.address), base + 3);
  } finally {
    await gateway.stop();
    await broker.disconnect();
    await service.stop();
    await registry.close();
  }
});
