import { after, test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionPool } from "../../../src/runtime/transport/pool.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import type { ClientStream, Connection, Listener, ServerStream } from "../../../src/index.js";

const transport = tcpTransport();
const held: ServerStream[] = [];
let listener: Listener;

after(async () => {
  for (const s of held) s.close();
  await listener?.close(100);
});

test("the pool reuses one connection, and opens more (up to its size) only when it is busy", async () => {
  listener = await transport.listen("127.0.0.1:0", (s) => void held.push(s));
  const pool = new ConnectionPool(transport, { size: 3, spreadAt: 4 });
  const get = async (): Promise<Connection> => pool.get(listener.address);
  const open = async (): Promise<ClientStream> => (await get()).openStream({ service: "s", endpoint: "E.P", contentType: "application/json", metadata: {}, kind: "bidi_streaming" });

  const first = await get();
  assert.equal(await get(), first, "an idle connection is reused");
  assert.equal(pool.connections(listener.address), 1);

  const streams: ClientStream[] = [];
  // Fill past spreadAt: the pool dials another connection in the background while the busy one keeps serving.
  for (let i = 0; i < 4; i++) streams.push(await open());
  const busy = await get();
  assert.equal(busy, first, "the busy connection still serves while another is dialled");
  // Once the new one is up, streams go to the least busy connection.
  await pool.settled(listener.address);
  assert.equal(pool.connections(listener.address), 2, "a second connection was opened");
  assert.notEqual(await get(), first, "the idle new connection is preferred");
  for (let i = 0; i < 20; i++) streams.push(await open());
  assert.ok(pool.connections(listener.address) <= 3, "never more than the pool size");

  for (const s of streams) s.cancel();
  pool.close();
  assert.equal(pool.connections(listener.address), 0);
});

test("a connection whose dial finishes after the pool was closed is closed, not kept (it would hold the process open)", async () => {
  const l = await transport.listen("127.0.0.1:0", (s) => void held.push(s));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let dialled: Connection | undefined;
  // The real transport, with the dial held until the pool has been closed.
  const slow = {
    name: transport.name,
    listen: transport.listen.bind(transport),
    dial: async (address: string) => {
      const c = await transport.dial(address);
      await gate;
      return (dialled = c);
    },
  };
  const pool = new ConnectionPool(slow, { size: 1 });
  try {
    const pending = Promise.resolve(pool.get(l.address));
    pool.close();
    release();
    await assert.rejects(pending, /closed while connecting/);
    assert.ok(dialled, "the dial completed");
    assert.equal(dialled.closed, true, "the late connection was closed by the pool");
  } finally {
    dialled?.close();
    await l.close(100);
  }
});
