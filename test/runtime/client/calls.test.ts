/**
 * Calls from this process to a greeter node in another process, found through a local registry in a temp
 * directory: unary, the four stream kinds with early cancel from either side, deadlines and cancellation
 * reaching the handler's signal, metadata both ways, errors, not-found texts, JSON and Debug.Health.
 * Every case runs over each transport in {@link TRANSPORTS} (node and caller started with `--transport`).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { MicroError, healthMethod, newClient, newService, rawJsonCodec, type CallWrapper, type Client, type Service } from "../../../src/index.js";
import { Greeter, type HelloRequest } from "../../fixtures/runtime/greeter.js";
import { startGreeter, tempRegistry, type Fixture } from "../../fixtures/runtime/harness.js";
import { TRANSPORTS } from "../../support/transports.js";

const hello = { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello };
const stream = { service: "greeter", endpoint: "Greeter.Stream", method: Greeter.methods.stream };
const upload = { service: "greeter", endpoint: "Greeter.Upload", method: Greeter.methods.upload };
const chat = { service: "greeter", endpoint: "Greeter.Chat", method: Greeter.methods.chat };

const isError = (code: number, detail: RegExp, id?: string) => (e: unknown) =>
  e instanceof MicroError && e.code === code && detail.test(e.detail) && (id === undefined || e.id === id);

async function* names(...list: string[]): AsyncGenerator<HelloRequest> {
  for (const name of list) yield { name };
}

async function* forever(signal: AbortSignal): AsyncGenerator<HelloRequest> {
  for (let i = 0; !signal.aborted; i++) {
    yield { name: `n${i}` };
    await new Promise((r) => setImmediate(r));
  }
}

for (const transport of TRANSPORTS) {
  describe(`calls over ${transport}`, () => {
    const reg = tempRegistry();
    let node: Fixture;
    let address: string;
    let caller: Service;
    let client: Client;

    before(async () => {
      ({ node, address } = await startGreeter(["--registry_address", reg.dir, "--transport", transport], { NODE_TAG: "solo" }));
      caller = newService({ name: "caller", argv: ["--registry_address", reg.dir, "--transport", transport], env: {} });
      caller.init();
      client = caller.client();
    });

    after(async () => {
      await caller?.stop();
      node?.kill();
      await node?.exited;
      reg.remove();
    });

    test("a unary call finds the node through the registry; response metadata comes back", async () => {
      let md: Record<string, string> | undefined;
      const rsp = await client.call(hello, { name: "John" }, { onResponseMetadata: (m) => (md = m) });
      assert.equal(rsp.message, "Hello John from solo");
      assert.equal(md?.["x-node"], "solo");
    });

    test("request metadata reaches the handler and the handler's response metadata the caller", async () => {
      let md: Record<string, string> | undefined;
      const rsp = await client.call(hello, { name: "meta" }, { metadata: { "x-echo": "abc" }, onResponseMetadata: (m) => (md = m) });
      assert.equal(rsp.message, "meta abc");
      assert.equal(md?.["x-echo"], "abc");
    });

    test("a MicroError from the handler arrives intact; a thrown Error becomes a 500 with its message", async () => {
      await assert.rejects(client.call(hello, { name: "conflict:name taken" }), (e: unknown) => {
        assert.ok(e instanceof MicroError);
        assert.deepEqual(e.toJSON(), { id: "greeter", code: 409, detail: "name taken", status: "Conflict" });
        return true;
      });
      await assert.rejects(client.call(hello, { name: "throw:boom at line 3" }), isError(500, /^boom at line 3$/, "greeter"));
    });

    test("an unknown endpoint or service is a not-found naming what exists (gRPC: UNIMPLEMENTED, 501)", async () => {
      if (transport === "grpc") {
        await assert.rejects(client.call({ ...hello, endpoint: "Greeter.Nope" }, { name: "x" }), isError(501, /unknown gRPC method \/greeter\.v1\.Greeter\/Nope on service "greeter"; it serves: .*\/greeter\.v1\.Greeter\/Hello/));
        await assert.rejects(client.call({ ...hello, service: "nosuch" }, { name: "x" }, { address }), isError(501, /unknown gRPC method \/nosuch\.Greeter\/Hello/));
      } else {
        await assert.rejects(
          client.call({ ...hello, endpoint: "Greeter.Nope" }, { name: "x" }),
          isError(404, /unknown endpoint "Greeter\.Nope" on service "greeter"; it has: Greeter\.Hello, Greeter\.Stream, Greeter\.Upload, Greeter\.Chat/),
        );
        await assert.rejects(client.call({ ...hello, service: "nosuch" }, { name: "x" }, { address }), isError(404, /unknown service "nosuch": this server is "greeter" with endpoints Greeter\.Hello/));
      }
      await assert.rejects(client.call({ ...hello, service: "nosuch" }, { name: "x" }), isError(404, /service nosuch not found/));
    });

    test("JSON calls with rawJsonCodec are answered in JSON", async () => {
      const raw = { name: "Greeter.Hello", kind: "unary" as const, input: rawJsonCodec, output: rawJsonCodec };
      const rsp = await client.call({ service: "greeter", endpoint: "Greeter.Hello", method: raw }, { name: "json" }, { contentType: "application/json" });
      assert.deepEqual(rsp, { message: "Hello json from solo" });
      await assert.rejects(client.call({ service: "greeter", endpoint: "Greeter.Hello", method: raw }, { name: "x" }, { contentType: "text/yaml" }), isError(400, /unsupported content type "text\/yaml"/));
    });

    test("Debug.Health answers ok, in protobuf and JSON", async () => {
      assert.deepEqual(await client.call({ service: "greeter", endpoint: "Debug.Health", method: healthMethod }, {}), { status: "ok" });
      const raw = { name: "Health", kind: "unary" as const, input: rawJsonCodec, output: rawJsonCodec };
      assert.deepEqual(await client.call({ service: "greeter", endpoint: "Debug.Health", method: raw }, {}, { contentType: "application/json" }), { status: "ok" });
    });

    test("a deadline fails the call with 408 and fires the handler's signal", async () => {
      await assert.rejects(client.call(hello, { name: "sleep:20000" }, { timeout: 300, retries: 0, metadata: { "x-test": "deadline" } }), isError(408, /deadline exceeded/));
      await node.waitFor((e) => e.event === "aborted" && e.name === "deadline");
    });

    test("aborting the caller's signal cancels the call (499) and fires the handler's signal", async () => {
      const controller = new AbortController();
      const call = client.call(hello, { name: "sleep:20000" }, { signal: controller.signal, metadata: { "x-test": "cancel" } });
      await node.waitFor((e) => e.event === "started" && e.name === "cancel");
      controller.abort(new Error("user gave up"));
      await assert.rejects(call, isError(499, /call cancelled \(user gave up\)/));
      await node.waitFor((e) => e.event === "aborted" && e.name === "cancel");
    });

    test("server streaming: all messages, then the trailer's metadata", async () => {
      let md: Record<string, string> | undefined;
      const got: string[] = [];
      for await (const m of client.serverStream(stream, { name: "count:5" }, { onResponseMetadata: (x) => (md = x) })) got.push(m.message);
      assert.deepEqual(got, ["0", "1", "2", "3", "4"]);
      assert.equal(md?.["x-kind"], "stream");
    });

    test("server streaming: the client breaking out cancels the handler", async () => {
      const got: string[] = [];
      for await (const m of client.serverStream(stream, { name: "endless" }, { metadata: { "x-test": "endless-break" } })) {
        got.push(m.message);
        if (got.length === 3) break;
      }
      assert.deepEqual(got, ["0", "1", "2"]);
      await node.waitFor((e) => e.event === "aborted" && e.name === "endless-break");
    });

    test("server streaming: an error from the handler ends the stream after the messages sent", async () => {
      const got: string[] = [];
      await assert.rejects(async () => {
        for await (const m of client.serverStream(stream, { name: "fail:3" })) got.push(m.message);
      }, isError(400, /failed after 2 messages/, "greeter"));
      assert.deepEqual(got, ["0", "1"]);
    });



    test("client streaming: the handler gets every message and answers once", async () => {
      assert.deepEqual(await client.clientStream(upload, names("a", "b", "c")), { message: "a,b,c" });
    });

    test("client streaming: the handler may answer before the client is done sending", async () => {
      const stop = new AbortController();
      async function* source(): AsyncGenerator<HelloRequest> {
        yield { name: "x" };
        yield { name: "stop" };
        yield* forever(stop.signal);
      }
      try {
        assert.deepEqual(await client.clientStream(upload, source()), { message: "x" });
      } finally {
        stop.abort();
      }
    });

    test("client streaming: cancelling the call fires the handler's signal", async () => {
      const controller = new AbortController();
      const call = client.clientStream(upload, forever(controller.signal), { signal: controller.signal, metadata: { "x-test": "upload-cancel" } });
      await node.waitFor((e) => e.event === "started" && e.name === "upload-cancel");
      controller.abort();
      await assert.rejects(call, isError(499, /cancelled/));
      await node.waitFor((e) => e.event === "aborted" && e.name === "upload-cancel");
    });

    test("client streaming: a failing request source fails the call with its error and cancels the handler", async () => {
      async function* broken(): AsyncGenerator<HelloRequest> {
        yield { name: "a" };
        throw new Error("source broke");
      }
      await assert.rejects(client.clientStream(upload, broken(), { metadata: { "x-test": "upload-broken" } }), /source broke/);
      await node.waitFor((e) => e.event === "aborted" && e.name === "upload-broken");
    });

    test("bidi streaming: echoes each message; the handler may end the stream", async () => {
      const got: string[] = [];
      for await (const m of client.bidiStream(chat, names("a", "b", "bye", "never"))) got.push(m.message);
      assert.deepEqual(got, ["echo a", "echo b"]);
    });

    test("bidi streaming: the client breaking out cancels the handler", async () => {
      const stop = new AbortController();
      const got: string[] = [];
      try {
        for await (const m of client.bidiStream(chat, forever(stop.signal), { metadata: { "x-test": "chat-break" } })) {
          got.push(m.message);
          if (got.length === 2) break;
        }
      } finally {
        stop.abort();
      }
      assert.deepEqual(got, ["echo n0", "echo n1"]);
      await node.waitFor((e) => e.event === "aborted" && e.name === "chat-break");
    });

    test("a malformed request is a 400 naming the message type, and the server keeps serving", async () => {
      const garbage = { ...Greeter.methods.hello.input, encode: () => new Uint8Array([0x0f, 0xff]) };
      const method = { ...Greeter.methods.hello, input: garbage };
      await assert.rejects(client.call({ ...hello, method }, { name: "x" }), isError(400, /cannot decode greeter\.v1\.HelloRequest from application\/protobuf/, "micro.server"));
      assert.equal((await client.call(hello, { name: "after" })).message, "Hello after from solo");
    });

    test("retries: connection failures are retried, application errors (even a 503) never", async () => {
      const plugins = await caller.plugins();
      let attempts = 0;
      const count: CallWrapper = (next) => (node, request) => (attempts++, next(node, request));
      const counting = newClient({ deps: { selector: plugins.selector, transport: plugins.transport }, callWrappers: [count], retries: 2, backoff: { initialDelay: 1, maxDelay: 5 } });
      try {
        await assert.rejects(counting.call(hello, { name: "unavailable:down for maintenance" }), isError(503, /^down for maintenance$/, "greeter"));
        assert.equal(attempts, 1, "an application error is not retried");

        // A port nobody listens on: every attempt fails to connect.
        const probe = createServer();
        await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
        const dead = `127.0.0.1:${(probe.address() as { port: number }).port}`;
        await new Promise<void>((r) => probe.close(() => r()));
        attempts = 0;
        await assert.rejects(counting.call(hello, { name: "x" }, { address: dead }), (e: unknown) => e instanceof MicroError && e.code === 503 && e.id === "micro.transport");
        assert.equal(attempts, 3, "1 attempt + 2 retries");
      } finally {
        counting.close();
      }
    });

    test("plugins that fail to resolve at the first call are resolved again by the next one", async () => {
      const plugins = await caller.plugins();
      let resolves = 0;
      const lazy = newClient({
        resolve: async () => {
          resolves += 1;
          if (resolves === 1) throw new MicroError("micro.test", 503, "registry not up yet");
          return { selector: plugins.selector, transport: plugins.transport };
        },
      });
      try {
        await assert.rejects(lazy.call(hello, { name: "early" }), isError(503, /registry not up yet/));
        assert.equal((await lazy.call(hello, { name: "later" })).message, "Hello later from solo");
        assert.equal(resolves, 2);
      } finally {
        lazy.close();
      }
    });
  });
}
