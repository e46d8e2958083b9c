/**
 * A JSON response may carry fields the client's message type does not have (a newer server added them):
 * the client reads it as binary protobuf would, skipping them, while the server stays strict about requests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MicroError, cacheSelector, newClient, newServer, type MessageCodec, type ServiceDefinition } from "../../../src/index.js";
import { memoryRegistry } from "../../../src/runtime/registry/memory/index.js";
import { memoryBroker } from "../../../src/runtime/broker/memory/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";

type Msg = { name: string };
/** A strict JSON codec over `{name}` (as generated codecs are): an unknown field is a 400 unless skipped. */
const strict = (typeName: string, extra?: string): MessageCodec<Msg> => ({
  typeName,
  encode: () => {
    throw new Error("JSON only");
  },
  decode: () => {
    throw new Error("JSON only");
  },
  fromJSON: (json, options) => {
    const o = json as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (key !== "name" && !options?.ignoreUnknownFields) throw MicroError.badRequest("micro.codec", `${key}: unknown field`);
    }
    return { name: String(o.name ?? "") };
  },
  toJSON: (m) => (extra ? { name: m.name, [extra]: "new" } : { name: m.name }),
});

const definition = (extra?: string) =>
  ({
    name: "Echo",
    fullName: "echo.v1.Echo",
    methods: { echo: { name: "Echo", kind: "unary", input: strict("echo.v1.Req"), output: strict("echo.v1.Rsp", extra) } },
  }) as const satisfies ServiceDefinition;

test("a JSON response with a field the client does not know is read, not refused; requests stay strict", async () => {
  const registry = memoryRegistry();
  const server = newServer({ name: "echo", deps: { registry, transport: tcpTransport(), broker: memoryBroker() } });
  server.handle(definition("addedLater"), { echo: (req: Msg) => ({ name: `hi ${req.name}` }) });
  await server.start();
  const client = newClient({ deps: { selector: cacheSelector({ registry }), transport: tcpTransport() }, contentType: "application/json" });
  try {
    const target = { service: "echo", endpoint: "Echo.Echo", method: definition().methods.echo };
    assert.deepEqual(await client.call(target, { name: "Ann" }), { name: "hi Ann" });
    const withExtra = { ...target, method: { ...target.method, input: { ...strict("echo.v1.Req", "unknownToServer") } } };
    await assert.rejects(client.call(withExtra, { name: "Ann" }), (e: unknown) => e instanceof MicroError && e.code === 400 && /unknownToServer: unknown field/.test(e.detail));
  } finally {
    client.close();
    await server.stop();
    await registry.close();
  }
});
