/**
 * @grpc/grpc-js as a client of a micro-ts grpc service and as a server that a micro-ts client calls: unary,
 * the three stream kinds, deadline exceeded, cancel, an error's status and message, metadata both ways, a
 * 3 MB message, gzip, TLS and mTLS.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as grpc from "@grpc/grpc-js";
import { MicroError } from "../../../../src/index.js";
import type { TransportTls } from "../../../../src/runtime/transport/tls.js";
import { makeTestPki, type TestPki } from "../../../support/servers-tls.js";
import { grpcJsGreeter, microGrpcClient, startMicroGreeter, targets, until, type MicroGreeter } from "./greeter.js";
import type { HelloRequest, HelloResponse } from "../../../fixtures/runtime/greeter.js";

type GenericClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
const GreeterClient = grpc.makeGenericClientConstructor(grpcJsGreeter as unknown as grpc.ServiceDefinition, "Greeter");

function unary(client: GenericClient, name: string, opts: { metadata?: grpc.Metadata; deadline?: number } = {}): Promise<{ message: string; md: grpc.Metadata; trailers: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    let md = new grpc.Metadata();
    let trailers = new grpc.Metadata();
    const call = client.hello({ name }, opts.metadata ?? new grpc.Metadata(), opts.deadline ? { deadline: Date.now() + opts.deadline } : {}, (err: grpc.ServiceError | null, rsp: HelloResponse) =>
      err ? reject(err) : setImmediate(() => resolve({ message: rsp.message, md, trailers })),
    ) as grpc.ClientUnaryCall;
    call.on("metadata", (m: grpc.Metadata) => (md = m));
    call.on("status", (s: grpc.StatusObject) => (trailers = s.metadata));
  });
}

const isStatus = (code: grpc.status, details: RegExp) => (e: unknown) => {
  const s = e as grpc.ServiceError;
  assert.equal(s.code, code, s.message);
  assert.match(s.details, details);
  return true;
};

describe("grpc-js client -> micro-ts grpc server", () => {
  let micro: MicroGreeter;
  let client: GenericClient;
  before(async () => {
    micro = await startMicroGreeter();
    client = new GreeterClient(micro.address, grpc.credentials.createInsecure()) as GenericClient;
  });
  after(async () => {
    client.close();
    await micro.stop();
  });

  test("unary with metadata both ways (text and -bin)", async () => {
    const md = new grpc.Metadata();
    md.set("x-echo", "abc");
    md.set("x-data-bin", Buffer.from([0, 1, 255]));
    const r = await unary(client, "John", { metadata: md });
    assert.equal(r.message, "Hello John");
    assert.deepEqual(r.trailers.get("x-echo"), ["abc"]);
    assert.deepEqual(r.trailers.get("x-data-bin"), [Buffer.from([0, 1, 255])]);
  });

  test("server, client and bidi streams", async () => {
    const got: string[] = [];
    const s = client.stream({ name: "count:5" }) as grpc.ClientReadableStream<HelloResponse>;
    for await (const m of s) got.push((m as HelloResponse).message);
    assert.deepEqual(got, ["0", "1", "2", "3", "4"]);

    const up = await new Promise<string>((resolve, reject) => {
      const call = client.upload((err: grpc.ServiceError | null, rsp: HelloResponse) => (err ? reject(err) : resolve(rsp.message))) as grpc.ClientWritableStream<HelloRequest>;
      for (const name of ["a", "b", "c"]) call.write({ name });
      call.end();
    });
    assert.equal(up, "a,b,c");

    const chat = client.chat() as grpc.ClientDuplexStream<HelloRequest, HelloResponse>;
    const echoes: string[] = [];
    chat.write({ name: "x" });
    chat.write({ name: "y" });
    chat.end();
    for await (const m of chat) echoes.push((m as HelloResponse).message);
    assert.deepEqual(echoes, ["echo x", "echo y"]);
  });

  test("a deadline is DEADLINE_EXCEEDED and fires the handler's signal with 408", async () => {
    await assert.rejects(unary(client, "sleep:20000:d", { deadline: 200 }), isStatus(grpc.status.DEADLINE_EXCEEDED, /deadline/i));
    await until(() => micro.seen.aborted.has("sleep:20000:d"), 10_000, "the handler's signal");
    assert.equal(micro.seen.aborted.get("sleep:20000:d"), 408);
  });

  test("cancel (RST_STREAM) fires the handler's signal with 499", async () => {
    const p = new Promise<grpc.ServiceError>((resolve) => {
      const call = client.hello({ name: "sleep:20000:c" }, (err: grpc.ServiceError) => resolve(err)) as grpc.ClientUnaryCall;
      void until(() => micro.seen.started.has("sleep:20000:c"), 10_000, "the handler").then(() => call.cancel());
    });
    assert.equal((await p).code, grpc.status.CANCELLED);
    await until(() => micro.seen.aborted.has("sleep:20000:c"), 10_000, "the handler's signal");
    assert.equal(micro.seen.aborted.get("sleep:20000:c"), 499);
  });

  test("a MicroError is its gRPC status with the detail as message; unknown methods are UNIMPLEMENTED", async () => {
    await assert.rejects(unary(client, "error:404:no such user ü"), isStatus(grpc.status.NOT_FOUND, /^no such user ü$/));
    await assert.rejects(unary(client, "error:409:taken"), isStatus(grpc.status.ALREADY_EXISTS, /^taken$/));
    await assert.rejects(unary(client, "error:503:down"), isStatus(grpc.status.UNAVAILABLE, /^down$/));
    const Other = grpc.makeGenericClientConstructor({ nope: { ...grpcJsGreeter.hello!, path: "/greeter.v1.Greeter/Nope" } } as unknown as grpc.ServiceDefinition, "Other");
    const other = new Other(micro.address, grpc.credentials.createInsecure()) as GenericClient;
    try {
      await assert.rejects(
        new Promise((res, rej) => other.nope({ name: "x" }, (e: unknown, r: unknown) => (e ? rej(e) : res(r)))),
        isStatus(grpc.status.UNIMPLEMENTED, /unknown gRPC method \/greeter\.v1\.Greeter\/Nope/),
      );
    } finally {
      other.close();
    }
  });

  test("a 3 MB message each way", async () => {
    const r = await unary(client, `big:${3 * 1024 * 1024}`);
    assert.equal(r.message.length, 3 * 1024 * 1024);
    const up = await new Promise<string>((resolve, reject) => {
      const call = client.upload((err: grpc.ServiceError | null, rsp: HelloResponse) => (err ? reject(err) : resolve(rsp.message))) as grpc.ClientWritableStream<HelloRequest>;
      call.write({ name: "y".repeat(3 * 1024 * 1024) });
      call.end();
    });
    assert.equal(up.length, 3 * 1024 * 1024);
  });

  test("gzip requests are decompressed and answered in gzip", async () => {
    const gz = new GreeterClient(micro.address, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 }) as GenericClient;
    try {
      const r = await unary(gz, `big:${64 * 1024}`);
      assert.equal(r.message.length, 64 * 1024);
      const up = await new Promise<string>((resolve, reject) => {
        const call = gz.upload((err: grpc.ServiceError | null, rsp: HelloResponse) => (err ? reject(err) : resolve(rsp.message))) as grpc.ClientWritableStream<HelloRequest>;
        call.write({ name: "z".repeat(100_000) });
        call.end();
      });
      assert.equal(up.length, 100_000);
    } finally {
      gz.close();
    }
  });
});

describe("micro-ts grpc client -> grpc-js server", () => {
  let server: grpc.Server;
  let address: string;
  const aborted = new Set<string>();
  const impl = {
    hello(call: grpc.ServerUnaryCall<HelloRequest, HelloResponse>, cb: grpc.sendUnaryData<HelloResponse>) {
      const name = call.request.name;
      const md = new grpc.Metadata();
      const echo = call.metadata.get("x-echo");
      if (echo.length > 0) md.set("x-echo", String(echo[0]));
      call.sendMetadata(md);
      if (name.startsWith("error:")) return cb({ code: grpc.status.PERMISSION_DENIED, details: name.slice(6) });
      if (name.startsWith("sleep")) {
        const t = setTimeout(() => cb(null, { message: "slept" }), 20_000);
        call.on("cancelled", () => (clearTimeout(t), aborted.add(name)));
        return;
      }
      if (name.startsWith("big:")) return cb(null, { message: "b".repeat(Number(name.slice(4))) });
      cb(null, { message: `grpc-js says hello ${name}` });
    },
    stream(call: grpc.ServerWritableStream<HelloRequest, HelloResponse>) {
      const n = Number(call.request.name.split(":")[1]);
      for (let i = 0; i < n; i++) call.write({ message: String(i) });
      call.end();
    },
    upload(call: grpc.ServerReadableStream<HelloRequest, HelloResponse>, cb: grpc.sendUnaryData<HelloResponse>) {
      const names: string[] = [];
      call.on("data", (m: HelloRequest) => names.push(m.name));
      call.on("end", () => cb(null, { message: names.join(",") }));
    },
    chat(call: grpc.ServerDuplexStream<HelloRequest, HelloResponse>) {
      call.on("data", (m: HelloRequest) => call.write({ message: `echo ${m.name}` }));
      call.on("end", () => call.end());
    },
  };
  const client = microGrpcClient();
  const gzipClient = microGrpcClient({ compression: "gzip" });

  before(async () => {
    server = new grpc.Server();
    server.addService(grpcJsGreeter as unknown as grpc.ServiceDefinition, impl as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    address = `127.0.0.1:${port}`;
  });
  after(async () => {
    client.close();
    gzipClient.close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
  });

  test("unary with metadata both ways", async () => {
    let md: Record<string, string> | undefined;
    const rsp = await client.call(targets.hello, { name: "micro" }, { address, metadata: { "x-echo": "e1" }, onResponseMetadata: (m) => (md = m) });
    assert.equal(rsp.message, "grpc-js says hello micro");
    assert.equal(md?.["x-echo"], "e1");
  });

  test("server, client and bidi streams", async () => {
    const got: string[] = [];
    for await (const m of client.serverStream(targets.stream, { name: "count:4" }, { address })) got.push(m.message);
    assert.deepEqual(got, ["0", "1", "2", "3"]);
    async function* names() {
      yield { name: "p" };
      yield { name: "q" };
    }
    assert.equal((await client.clientStream(targets.upload, names(), { address })).message, "p,q");
    const echoes: string[] = [];
    for await (const m of client.bidiStream(targets.chat, names(), { address })) echoes.push(m.message);
    assert.deepEqual(echoes, ["echo p", "echo q"]);
  });

  test("a gRPC status becomes a MicroError (PERMISSION_DENIED -> 403, message kept)", async () => {
    await assert.rejects(client.call(targets.hello, { name: "error:not yours" }, { address }), (e: unknown) => e instanceof MicroError && e.code === 403 && e.detail === "not yours" && e.id === "grpc");
  });

  test("deadline (408) and cancel (499) reach the grpc-js server as a cancelled call", async () => {
    await assert.rejects(client.call(targets.hello, { name: "sleep-d" }, { address, timeout: 200 }), (e: unknown) => e instanceof MicroError && e.code === 408);
    await until(() => aborted.has("sleep-d"), 10_000, "grpc-js to see the deadline");
    const ac = new AbortController();
    const call = client.call(targets.hello, { name: "sleep-c" }, { address, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(call, (e: unknown) => e instanceof MicroError && e.code === 499);
    await until(() => aborted.has("sleep-c"), 10_000, "grpc-js to see the cancel");
  });

  test("a 3 MB message and gzip both ways", async () => {
    assert.equal((await client.call(targets.hello, { name: `big:${3 * 1024 * 1024}` }, { address })).message.length, 3 * 1024 * 1024);
    async function* one() {
      yield { name: "g".repeat(200_000) };
    }
    assert.equal((await gzipClient.clientStream(targets.upload, one(), { address })).message.length, 200_000);
  });
});

describe("TLS and mTLS with grpc-js", () => {
  let pki: TestPki;
  let files: { ca: Buffer; serverCert: Buffer; serverKey: Buffer; clientCert: Buffer; clientKey: Buffer };
  before(async () => {
    pki = await makeTestPki();
    const [ca, serverCert, serverKey, clientCert, clientKey] = await Promise.all([pki.ca, pki.serverCert, pki.serverKey, pki.clientCert, pki.clientKey].map((p) => readFile(p)));
    files = { ca: ca!, serverCert: serverCert!, serverKey: serverKey!, clientCert: clientCert!, clientKey: clientKey! };
  });
  after(async () => {
    await pki?.remove();
  });

  test("grpc-js calls a TLS micro-ts server; a micro-ts TLS client calls it too; plaintext fails saying so", async () => {
    const micro = await startMicroGreeter({ tls: { cert: files.serverCert, key: files.serverKey } });
    const gjs = new GreeterClient(micro.address, grpc.credentials.createSsl(files.ca)) as GenericClient;
    const tlsClient = microGrpcClient({ tls: { ca: files.ca } });
    const plain = microGrpcClient();
    try {
      assert.equal((await unary(gjs, "tls")).message, "Hello tls");
      assert.equal((await tlsClient.call(targets.hello, { name: "tls2" }, { address: micro.address })).message, "Hello tls2");
      await assert.rejects(plain.call(targets.hello, { name: "x" }, { address: micro.address }), (e: unknown) => e instanceof MicroError && e.code === 503 && /TLS|tls/.test(e.detail));
    } finally {
      gjs.close();
      tlsClient.close();
      plain.close();
      await micro.stop();
    }
  });

  test("mTLS: a client with a certificate is served, one without is refused", async () => {
    const tls: TransportTls = { cert: files.serverCert, key: files.serverKey, ca: files.ca };
    const micro = await startMicroGreeter({ tls });
    const withCert = new GreeterClient(micro.address, grpc.credentials.createSsl(files.ca, files.clientKey, files.clientCert)) as GenericClient;
    const without = new GreeterClient(micro.address, grpc.credentials.createSsl(files.ca)) as GenericClient;
    const microWith = microGrpcClient({ tls: { ca: files.ca, cert: files.clientCert, key: files.clientKey } });
    const microWithout = microGrpcClient({ tls: { ca: files.ca } });
    try {
      assert.equal((await unary(withCert, "mtls")).message, "Hello mtls");
      await assert.rejects(unary(without, "x", { deadline: 5000 }), (e: unknown) => (e as grpc.ServiceError).code === grpc.status.UNAVAILABLE);
      assert.equal((await microWith.call(targets.hello, { name: "m" }, { address: micro.address })).message, "Hello m");
      await assert.rejects(microWithout.call(targets.hello, { name: "x" }, { address: micro.address }), (e: unknown) => e instanceof MicroError && e.code === 503);
    } finally {
      withCert.close();
      without.close();
      microWith.close();
      microWithout.close();
      await micro.stop();
    }

    // A grpc-js mTLS server, called by micro-ts with its client certificate.
    const server = new grpc.Server();
    server.addService(grpcJsGreeter as unknown as grpc.ServiceDefinition, {
      hello: (call: grpc.ServerUnaryCall<HelloRequest, HelloResponse>, cb: grpc.sendUnaryData<HelloResponse>) => cb(null, { message: `secure ${call.request.name}` }),
    } as unknown as grpc.UntypedServiceImplementation);
    const creds = grpc.ServerCredentials.createSsl(files.ca, [{ cert_chain: files.serverCert, private_key: files.serverKey }], true);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", creds, (e, p) => (e ? reject(e) : resolve(p))));
    const c = microGrpcClient({ tls: { ca: files.ca, cert: files.clientCert, key: files.clientKey } });
    try {
      assert.equal((await c.call(targets.hello, { name: "gjs" }, { address: `127.0.0.1:${port}` })).message, "secure gjs");
    } finally {
      c.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
    }
  });
});
