/**
 * The router answers only with response messages: a handler result (unary, client stream) or a streamed item
 * that is not an object — a number, a string, an array, null — or a protobuf-es message of another type is a
 * 500 naming what was returned and the response type, never a success with empty fields. And a request that
 * did not arrive (a unary stream half-closed without a message) is a 400; the handler does not run.
 * Every case runs over each transport in TRANSPORTS.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { MicroError, type RpcClient } from "../../../src/index.js";
import { TRANSPORTS, makeTransport } from "../../support/transports.js";
import { startGreeter, type GreeterServer } from "./greeter-server.js";
import { Greeter, type HelloRequest } from "../../fixtures/runtime/greeter.js";

/** What the handlers return, by request name. */
const results: Record<string, unknown> = {
  n42: 42,
  x: "x",
  arr: [1],
  nul: null,
  und: undefined,
  bytes: new Uint8Array([1]),
  other: { $typeName: "greeter.v1.HelloRequest", name: "a" },
  ok: { message: "fine" },
};
const served: string[] = [];

const target = (key: keyof typeof Greeter.methods) => ({ service: "greeter", endpoint: `Greeter.${Greeter.methods[key].name}`, method: Greeter.methods[key] });

const refused = (endpoint: string, returned: string) => (e: unknown) => {
  assert.ok(e instanceof MicroError, String(e));
  assert.equal(e.code, 500, e.detail);
  assert.equal(e.id, "greeter");
  assert.equal(e.detail, `${endpoint}: handler returned ${returned}, expected greeter.v1.HelloResponse`);
  return true;
};

for (const transport of TRANSPORTS) {
  describe(`handler results over ${transport}`, () => {
    let server: GreeterServer;
    let client: RpcClient;
    let address: string;

    before(async () => {
      server = await startGreeter({
        hello: (req: HelloRequest) => {
          served.push(req.name);
          return results[req.name];
        },
        stream: async function* (req: HelloRequest) {
          yield { message: "first" };
          yield results[req.name];
        },
        upload: async (requests: AsyncIterable<HelloRequest>) => {
          let last = "";
          for await (const r of requests) last = r.name;
          return results[last];
        },
        chat: async function* () {},
      }, transport);
      ({ client, address } = server);
    });

    after(async () => {
      await server?.stop();
    });

    const cases: Array<[string, string]> = [
      ["n42", "number 42"],
      ["x", 'string "x"'],
      ["arr", "an array"],
      ["nul", "null"],
      ["und", "undefined (no response)"],
      ["bytes", "a Uint8Array"],
      ["other", "a greeter.v1.HelloRequest"],
    ];

    test("a unary handler's result that is not its response message is a 500 naming what it returned", async () => {
      for (const [name, returned] of cases) {
        await assert.rejects(client.call(target("hello"), { name }, { address }), refused("Greeter.Hello", returned), name);
      }
      assert.deepEqual(await client.call(target("hello"), { name: "ok" }, { address }), { message: "fine" });
    });

    test("a streamed item that is not a response message ends the stream with the same 500 after the items before it", async () => {
      for (const [name, returned] of cases) {
        const got: string[] = [];
        await assert.rejects(async () => {
          for await (const r of client.serverStream(target("stream"), { name }, { address })) got.push(r.message);
        }, refused("Greeter.Stream", returned));
        assert.deepEqual(got, ["first"], name);
      }
    });

    test("a client-streaming handler's result is checked the same way", async () => {
      async function* one(name: string) {
        yield { name };
      }
      for (const [name, returned] of cases) {
        await assert.rejects(client.clientStream(target("upload"), one(name), { address }), refused("Greeter.Upload", returned), name);
      }
    });

    test("a unary call half-closed without a request message is refused with 400; the handler does not run", async () => {
      const conn = await makeTransport(transport).dial(address);
      try {
        served.length = 0;
        const s = conn.openStream({ service: "greeter", endpoint: "Greeter.Hello", contentType: "application/protobuf", metadata: {}, kind: "unary" });
        s.closeSend();
        await assert.rejects(
          async () => {
            for await (const _ of s) assert.fail("no response expected");
          },
          (e: unknown) => e instanceof MicroError && e.code === 400 && /Greeter\.Hello: the client ended the call without a request message \(greeter\.v1\.HelloRequest\)/.test(e.detail),
        );
        assert.deepEqual(served, []);
      } finally {
        conn.close();
      }
    });
  });
}
