/**
 * A streaming handler whose `finally` throws while the call is being cancelled: the error has no caller left,
 * so the router logs it at warn with the endpoint (it was swallowed silently before), and the server goes on.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { HelloRequest } from "../../fixtures/runtime/greeter.js";
import type { GreeterServer } from "./greeter-server.js";
import { captureLogs } from "../broker/fixtures/logs.js";

// The runtime's modules make their loggers when imported: capture first, then import them.
const logs = captureLogs("warn") as Array<{ msg: string; endpoint?: string; err?: { message?: string } }>;
const { startGreeter } = await import("./greeter-server.js");
const { Greeter } = await import("../../fixtures/runtime/greeter.js");

let greeter: GreeterServer;
let closed!: () => void;
const finallyRan = new Promise<void>((r) => (closed = r));

before(async () => {
  greeter = await startGreeter({
    hello: (req: HelloRequest) => ({ message: req.name }),
    stream: async function* () {
      try {
        for (let i = 0; ; i++) {
          yield { message: `${i}` };
          await new Promise((r) => setTimeout(r, 5));
        }
      } finally {
        closed();
        // eslint-disable-next-line no-unsafe-finally
        throw new Error("cleanup failed");
      }
    },
    upload: async () => ({ message: "" }),
    chat: async function* () {},
  });
});

after(async () => {
  await greeter?.stop();
});

test("an error thrown by a streaming handler's finally during cancel is logged at warn with the endpoint", async () => {
  const { client, address } = greeter;
  const target = { service: "greeter", endpoint: "Greeter.Stream", method: Greeter.methods.stream };
  for await (const r of client.serverStream(target, { name: "a" }, { address })) {
    assert.equal(r.message, "0");
    break; // cancels the call
  }
  await finallyRan;
  const deadline = Date.now() + 2000;
  let line: (typeof logs)[number] | undefined;
  while (!(line = logs.find((l) => l.err?.message === "cleanup failed")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(line, JSON.stringify(logs));
  assert.equal(line.endpoint, "Greeter.Stream");
  assert.match(line.msg, /closing/);
  // The server goes on serving.
  assert.deepEqual(await client.call({ service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello }, { name: "still here" }, { address }), { message: "still here" });
});
