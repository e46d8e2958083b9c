/**
 * The grpc listener's drain and keepalive: `close(drainMs)` sends GOAWAY (the client's connection counts as
 * closed, so the pool dials anew), lets an open call finish, refuses new connections, and aborts what is
 * still open when the drain time is up. Keepalive PINGs are answered on an idle connection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer } from "node:http2";
import { MicroError } from "../../../../src/index.js";
import { grpcTransport } from "../../../../src/runtime/transport/grpc/index.js";
import { enc, header, readAll, router, until } from "../helpers.js";

test("close(drainMs): GOAWAY, the open call finishes, new dials fail; what outlives the drain is aborted with 503", async () => {
  const transport = grpcTransport();
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const aborted: unknown[] = [];
  let started = 0;
  const listener = await transport.listen(
    "127.0.0.1:0",
    router({
      async "Test.Slow"(s) {
        started++;
        await readAll(s);
        await released;
        await s.send(enc("done"));
        s.close();
      },
      async "Test.Forever"(s) {
        started++;
        await new Promise<void>((r) => s.signal.addEventListener("abort", () => r()));
        aborted.push(s.signal.reason);
      },
    }),
  );
  const conn = await transport.dial(listener.address);
  const slow = conn.openStream(header("Test.Slow"));
  slow.closeSend();
  const forever = conn.openStream(header("Test.Forever"));
  forever.closeSend();
  // Both calls reached the server before the drain starts (a stream the server never saw is refused by GOAWAY).
  await until(() => started === 2, 10_000, "both calls at the server");
  const closing = listener.close(1500);
  await until(() => conn.closed, 10_000, "GOAWAY to reach the client");
  await assert.rejects(transport.dial(listener.address, { timeout: 2000 }), (e: unknown) => e instanceof MicroError && e.code === 503);
  release();
  assert.deepEqual(await readAll(slow), ["done"]);
  await closing;
  assert.equal((aborted[0] as MicroError | undefined)?.code, 503);
  assert.equal((await forever.trailer).error?.code !== undefined, true);
  conn.close();
});

test("keepalive: both ends PING on their interval and the connection stays usable", async () => {
  // Our client against a bare HTTP/2 server that counts the PINGs it receives.
  const pingsAtServer: number[] = [];
  const bare = createServer();
  bare.on("session", (session) => session.on("ping", () => pingsAtServer.push(Date.now())));
  await new Promise<void>((r) => bare.listen(0, "127.0.0.1", r));
  const client = grpcTransport({ keepaliveInterval: 50, keepaliveTimeout: 5000 });
  const conn = await client.dial(`127.0.0.1:${(bare.address() as { port: number }).port}`);
  await until(() => pingsAtServer.length >= 3, 10_000, "three client PINGs");
  assert.equal(conn.closed, false);
  conn.close();
  await new Promise<void>((r) => bare.close(() => r()));

  // Our server against a bare HTTP/2 client that counts the PINGs it receives.
  const server = grpcTransport({ keepaliveInterval: 50, keepaliveTimeout: 5000 });
  const listener = await server.listen("127.0.0.1:0", router({ async "Test.Echo"(s) { const m = await readAll(s); await s.send(enc(m.join())); s.close(); } }));
  const session = connect(`http://${listener.address}`);
  const pingsAtClient: number[] = [];
  session.on("ping", () => pingsAtClient.push(Date.now()));
  session.on("error", () => {
    // Reported by the assertions below if it matters.
  });
  try {
    await until(() => pingsAtClient.length >= 3, 10_000, "three server PINGs");
    assert.equal(session.closed || session.destroyed, false);
    const c = await server.dial(listener.address);
    const s = c.openStream(header("Test.Echo"));
    await s.send(enc("still here"));
    s.closeSend();
    assert.deepEqual(await readAll(s), ["still here"]);
    c.close();
  } finally {
    session.destroy();
    await listener.close(0);
  }
});
