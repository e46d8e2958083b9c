/**
 * Behaviour: a generated client and handler (greeter fixture, ts-proto and protobuf-es) round-trip through a tiny fake
 * Client/Server written here, for all four method kinds. Requests and responses cross as bytes through the
 * generated codecs, so the definition, the client factory, the registration and the handler shape all run.
 * The handler itself is TypeScript compiled strictly against the generated interface (async generators): once
 * against the `.micro.ts` (compiled by tsc), once against the plugin's own `target=js+dts` output.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import type { CallTarget, Client, Context, Server, ServiceDefinition, MethodDefinition } from "../../src/index.js";
import { makeProject, protoc, tempDir, tsc, variants } from "./support.js";

/** A server that keeps handlers in a map, keyed by endpoint. */
class FakeServer implements Server {
  readonly endpoints = new Map<string, { method: MethodDefinition; fn: (body: unknown, ctx: Context) => unknown }>();
  handle(definition: ServiceDefinition, implementation: object): void {
    for (const [key, method] of Object.entries(definition.methods)) {
      const fn = (implementation as Record<string, (body: unknown, ctx: Context) => unknown>)[key];
      assert.equal(typeof fn, "function", `handler has no method ${key}`);
      this.endpoints.set(`${definition.name}.${method.name}`, { method, fn: fn.bind(implementation) });
    }
  }
  subscribe(): void {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** A client that calls the fake server in-process, through the codecs' bytes. */
class FakeClient implements Client {
  readonly calls: string[] = [];
  constructor(private readonly server: FakeServer) {}

  private target<I, O>(target: CallTarget<I, O>) {
    this.calls.push(`${target.service}/${target.endpoint}`);
    const entry = this.server.endpoints.get(target.endpoint);
    assert.ok(entry, `no handler for ${target.endpoint}`);
    assert.equal(entry.method, target.method, "client and server disagree on the method definition");
    const ctx: Context = { service: target.service, endpoint: target.endpoint, metadata: {}, signal: new AbortController().signal, responseMetadata: {} };
    const req = (m: I): unknown => target.method.input.decode(target.method.input.encode(m));
    const res = (m: unknown): O => target.method.output.decode(target.method.output.encode(m as O));
    return { entry, ctx, req, res };
  }
  private async *requests<I>(source: AsyncIterable<I>, req: (m: I) => unknown): AsyncIterable<unknown> {
    for await (const m of source) yield req(m);
  }

  async call<I, O>(target: CallTarget<I, O>, request: I): Promise<O> {
    const { entry, ctx, req, res } = this.target(target);
    return res(await entry.fn(req(request), ctx));
  }
  async *serverStream<I, O>(target: CallTarget<I, O>, request: I): AsyncIterable<O> {
    const { entry, ctx, req, res } = this.target(target);
    for await (const m of entry.fn(req(request), ctx) as AsyncIterable<unknown>) yield res(m);
  }
  async clientStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>): Promise<O> {
    const { entry, ctx, req, res } = this.target(target);
    return res(await entry.fn(this.requests(requests, req), ctx));
  }
  async *bidiStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>): AsyncIterable<O> {
    const { entry, ctx, req, res } = this.target(target);
    for await (const m of entry.fn(this.requests(requests, req), ctx) as AsyncIterable<unknown>) yield res(m);
  }
  async publish(): Promise<void> {}
}

const handlerSource = `
import type { Context } from "micro-ts";
import type { GreeterHandler } from "./greeter/v1/greeter.micro.js";
import type { HelloRequest, HelloResponse, StreamRequest } from "./greeter/v1/greeter.js";

import { Greeter as Definition, newGreeterClient, type GreeterClient } from "./greeter/v1/greeter.micro.js";
import type { Client, MessageCodec } from "micro-ts";

// Compile-time checks that the types are precise (not any), whichever way the file was produced.
export function typeChecks(client: Client): void {
  const greeter: GreeterClient = newGreeterClient("greeter", client);
  const reply: Promise<HelloResponse> = greeter.hello({ name: "x" });
  void reply;
  // @ts-expect-error a request of the wrong shape
  void greeter.hello({ nope: 1 });
  const codec: MessageCodec<HelloRequest> = Definition.methods.hello.input;
  const kind: "unary" = Definition.methods.hello.kind;
  void codec;
  void kind;
  // @ts-expect-error not a method of the service
  void Definition.methods.nope;
}

export class Greeter implements GreeterHandler {
  hello(request: HelloRequest, context: Context): HelloResponse {
    return { message: "Hello " + request.name + " via " + context.endpoint };
  }
  async *stream(request: StreamRequest): AsyncGenerator<HelloResponse> {
    for (let i = 0; i < request.count; i++) yield { message: request.name + " " + i };
  }
  async upload(requests: AsyncIterable<HelloRequest>): Promise<HelloResponse> {
    const names: string[] = [];
    for await (const r of requests) names.push(r.name);
    return { message: names.join(",") };
  }
  async *chat(requests: AsyncIterable<HelloRequest>): AsyncGenerator<HelloResponse> {
    for await (const r of requests) yield { message: "hi " + r.name };
  }
}
`;

async function* from<T>(items: readonly T[]): AsyncIterable<T> {
  for (const i of items) yield i;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const i of it) out.push(i);
  return out;
}

for (const mode of ["ts", "js"] as const) {
  describe(`generated client and handler round-trip (${mode === "ts" ? ".micro.ts compiled by tsc" : "target=js+dts from the plugin"})`, () => {
    const tmp = tempDir(`roundtrip-${mode}`);
    let generated: Record<string, any>;
    let impl: Record<string, any>;
    after(() => tmp.remove());

    before(async () => {
      makeProject(tmp.dir, mode === "ts" ? "js-dir" : "in-place");
      const variant = variants.find((v) => v.name === "ts-proto")!;
      const microOpt = mode === "ts" ? variant.microOpt : `${variant.microOpt},target=js+dts`;
      const gen = await protoc(tmp.dir, microOpt, ["greeter/v1/greeter.proto"], { variant, out: tmp.dir });
      assert.equal(gen.code, 0, gen.stderr);
      writeFileSync(join(tmp.dir, "handler.ts"), handlerSource);
      const built = await tsc(tmp.dir);
      assert.equal(built.code, 0, built.stdout + built.stderr);
      const out = mode === "ts" ? join(tmp.dir, "js") : tmp.dir;
      generated = await import(pathToFileURL(join(out, "greeter/v1/greeter.micro.js")).href);
      impl = await import(pathToFileURL(join(out, "handler.js")).href);
    });

    it("runs all four method kinds through the codecs", async () => {
      const server = new FakeServer();
      generated.registerGreeterHandler(server, new impl.Greeter());
      assert.deepEqual([...server.endpoints.keys()], ["Greeter.Hello", "Greeter.Stream", "Greeter.Upload", "Greeter.Chat"]);
      const fake = new FakeClient(server);
      const greeter = generated.newGreeterClient("greeter", fake);

      assert.deepEqual(await greeter.hello({ name: "John" }), { message: "Hello John via Greeter.Hello" });
      assert.deepEqual(await collect(greeter.stream({ name: "n", count: 3 })), [{ message: "n 0" }, { message: "n 1" }, { message: "n 2" }]);
      assert.deepEqual(await greeter.upload(from([{ name: "a" }, { name: "b" }])), { message: "a,b" });
      assert.deepEqual(await collect(greeter.chat(from([{ name: "x" }, { name: "y" }]))), [{ message: "hi x" }, { message: "hi y" }]);
      assert.deepEqual(fake.calls, ["greeter/Greeter.Hello", "greeter/Greeter.Stream", "greeter/Greeter.Upload", "greeter/Greeter.Chat"]);
    });

    it("describes the service for the runtime: kinds, codecs, fields, http", () => {
      const def = generated.Greeter as ServiceDefinition;
      assert.equal(def.fullName, "greeter.v1.Greeter");
      assert.deepEqual(
        Object.entries(def.methods).map(([k, m]) => [k, m.name, m.kind]),
        [
          ["hello", "Hello", "unary"],
          ["stream", "Stream", "server_streaming"],
          ["upload", "Upload", "client_streaming"],
          ["chat", "Chat", "bidi_streaming"],
        ],
      );
      const hello = def.methods.hello!;
      assert.equal(hello.input.typeName, "greeter.v1.HelloRequest");
      assert.deepEqual(hello.input.fields, [{ name: "name", type: "string" }]);
      assert.deepEqual(hello.http, [{ method: "POST", path: "/v1/hello", body: "*" }]);
      assert.deepEqual(hello.input.toJSON(hello.input.fromJSON({ name: "J" })), { name: "J" });
    });
  });
}

const protobufEsHandlerSource = `
import { create } from "@bufbuild/protobuf";
import type { Context } from "micro-ts";
import type { GreeterHandler } from "./greeter/v1/greeter.micro.js";
import { HelloResponseSchema, type HelloRequest, type HelloResponse, type StreamRequest } from "./greeter/v1/greeter_pb.js";

export class Greeter implements GreeterHandler {
  hello(request: HelloRequest, context: Context): HelloResponse {
    return create(HelloResponseSchema, { message: "Hello " + request.name + " via " + context.endpoint });
  }
  async *stream(request: StreamRequest): AsyncGenerator<HelloResponse> {
    for (let i = 0; i < request.count; i++) yield create(HelloResponseSchema, { message: request.name + " " + i });
  }
  async upload(requests: AsyncIterable<HelloRequest>): Promise<HelloResponse> {
    const names: string[] = [];
    for await (const r of requests) names.push(r.name);
    return create(HelloResponseSchema, { message: names.join(",") });
  }
  async *chat(requests: AsyncIterable<HelloRequest>): AsyncGenerator<HelloResponse> {
    for await (const r of requests) yield create(HelloResponseSchema, { message: "hi " + r.name });
  }
}
`;

describe("generated client and handler round-trip (messages=protobuf-es)", () => {
  const tmp = tempDir("roundtrip-es");
  let generated: Record<string, any>;
  let impl: Record<string, any>;
  let schemas: Record<string, any>;
  after(() => tmp.remove());

  before(async () => {
    makeProject(tmp.dir, "js-dir");
    const variant = variants.find((v) => v.name === "protobuf-es")!;
    // protoc-gen-es' greeter_pb.ts imports the descriptors of the files it depends on.
    const protos = ["greeter/v1/greeter.proto", "google/api/annotations.proto", "google/api/http.proto"];
    const gen = await protoc(tmp.dir, variant.microOpt, protos, { variant, out: tmp.dir });
    assert.equal(gen.code, 0, gen.stderr);
    writeFileSync(join(tmp.dir, "handler.ts"), protobufEsHandlerSource);
    const built = await tsc(tmp.dir);
    assert.equal(built.code, 0, built.stdout + built.stderr);
    generated = await import(pathToFileURL(join(tmp.dir, "js/greeter/v1/greeter.micro.js")).href);
    schemas = await import(pathToFileURL(join(tmp.dir, "js/greeter/v1/greeter_pb.js")).href);
    impl = await import(pathToFileURL(join(tmp.dir, "js/handler.js")).href);
  });

  it("runs all four method kinds through protobuf-es codecs", async () => {
    const { create } = await import("@bufbuild/protobuf");
    const server = new FakeServer();
    generated.registerGreeterHandler(server, new impl.Greeter());
    const greeter = generated.newGreeterClient("greeter", new FakeClient(server));
    const req = (name: string) => create(schemas.HelloRequestSchema, { name });
    const text = (m: { message: string }) => m.message;

    assert.equal(text(await greeter.hello(req("John"))), "Hello John via Greeter.Hello");
    assert.deepEqual((await collect<{ message: string }>(greeter.stream(create(schemas.StreamRequestSchema, { name: "n", count: 2 })))).map(text), ["n 0", "n 1"]);
    assert.equal(text(await greeter.upload(from([req("a"), req("b")]))), "a,b");
    assert.deepEqual((await collect<{ message: string }>(greeter.chat(from([req("x")])))).map(text), ["hi x"]);
    const hello = (generated.Greeter as ServiceDefinition).methods.hello!;
    assert.equal(hello.output.typeName, "greeter.v1.HelloResponse");
    assert.deepEqual(hello.output.toJSON(hello.output.fromJSON({ message: "m" })), { message: "m" });
  });
});
