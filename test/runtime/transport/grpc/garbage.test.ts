/**
 * Garbage on the grpc port costs only the connection or stream that sent it, never the process: random bytes,
 * a bad HTTP/2 preface (HTTP/1), a 2 GB length prefix, a message cut off by the end of the stream, a non-gRPC
 * request, and thousands of open streams. After each, a good client is still served.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { randomBytes } from "node:crypto";
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";
import { microGrpcClient, startMicroGreeter, targets, type MicroGreeter } from "./greeter.js";
import { HelloRequestCodec } from "../../../fixtures/runtime/greeter.js";

/** Write `bytes` on a raw TCP connection and resolve when the server closes it. */
function rawClosed(address: string, bytes: Buffer): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  return new Promise((resolve, reject) => {
    const s = netConnect({ host, port }, () => s.write(bytes));
    s.on("error", () => {
      // A reset is the server closing on us too.
    });
    s.on("close", () => resolve());
    s.setTimeout(20_000, () => reject(new Error("the server kept a garbage connection open")));
    s.resume();
  });
}

function session(address: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = connect(`http://${address}`);
    s.once("remoteSettings", () => resolve(s));
    s.once("error", reject);
  });
}

/** Send `body` on a new gRPC stream to `path`; resolves with the response's and trailers' headers. */
function rawCall(s: ClientHttp2Session, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; grpcStatus?: string; message?: string; microError?: string }> {
  return new Promise((resolve, reject) => {
    const req: ClientHttp2Stream = s.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let status = 0;
    const finish = (h: Record<string, unknown>) =>
      resolve({ status, grpcStatus: h["grpc-status"] as string | undefined, message: h["grpc-message"] as string | undefined, microError: h["micro-error"] as string | undefined });
    req.on("response", (h) => {
      status = Number(h[":status"]);
      if (h["grpc-status"] !== undefined || status !== 200) finish(h);
    });
    req.on("trailers", finish);
    req.on("error", reject);
    req.resume();
    req.end(body);
  });
}

const framed = (payload: Uint8Array) => {
  const b = Buffer.alloc(5 + payload.length);
  b.writeUInt32BE(payload.length, 1);
  b.set(payload, 5);
  return b;
};

describe("grpc transport: garbage on the port", () => {
  let micro: MicroGreeter;
  const client = microGrpcClient();
  const served = async () => assert.equal((await client.call(targets.hello, { name: "ok" }, { address: micro.address })).message, "Hello ok");

  before(async () => {
    micro = await startMicroGreeter({ maxConcurrentStreams: 200 });
    await served();
  });
  after(async () => {
    client.close();
    await micro.stop();
  });

  test("random bytes and an HTTP/1 request close that connection only", async () => {
    await rawClosed(micro.address, randomBytes(4096));
    await rawClosed(micro.address, Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await rawClosed(micro.address, Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), randomBytes(2048)]));
    await served();
  });

  test("a 2 GB length prefix is RESOURCE_EXHAUSTED (413) on that stream; the connection stays usable", async () => {
    const s = await session(micro.address);
    try {
      const prefix = Buffer.from([0, 0x80, 0, 0, 0]);
      const r = await rawCall(s, "/greeter.v1.Greeter/Hello", prefix);
      assert.equal(r.status, 200);
      assert.equal(r.grpcStatus, "8");
      assert.match(decodeURIComponent(r.message ?? ""), /2147483648 bytes is over the limit of 4194304 bytes/);
      assert.equal(JSON.parse(decodeURIComponent(r.microError!)).code, 413);
      const ok = await rawCall(s, "/greeter.v1.Greeter/Hello", framed(HelloRequestCodec.encode({ name: "again" })));
      assert.equal(ok.grpcStatus, "0");
    } finally {
      s.destroy();
    }
    await served();
  });

  test("a message cut off by the end of the stream, a bad flag and a non-gRPC request are refused on their stream", async () => {
    const s = await session(micro.address);
    try {
      const whole = framed(HelloRequestCodec.encode({ name: "cut" }));
      const cut = await rawCall(s, "/greeter.v1.Greeter/Hello", whole.subarray(0, whole.length - 2));
      assert.notEqual(cut.grpcStatus, "0");
      const flag = Buffer.from(whole);
      flag[0] = 7;
      assert.equal((await rawCall(s, "/greeter.v1.Greeter/Hello", flag)).grpcStatus, "3");
      const gz = Buffer.from(whole);
      gz[0] = 1;
      assert.equal((await rawCall(s, "/greeter.v1.Greeter/Hello", gz, { "grpc-encoding": "gzip" })).grpcStatus, "3");
      assert.equal((await rawCall(s, "/greeter.v1.Greeter/Hello", whole, { "grpc-encoding": "br" })).grpcStatus, "12");
      assert.equal((await rawCall(s, "/greeter.v1.Greeter/Hello", whole, { "grpc-timeout": "soon" })).grpcStatus, "3");
      assert.equal((await rawCall(s, "/not-a-path", whole)).grpcStatus, "12");
      assert.equal((await rawCall(s, "/greeter.v1.Greeter/Hello", whole, { "content-type": "text/plain" })).status, 415);
    } finally {
      s.destroy();
    }
    await served();
  });

  test("thousands of open streams: beyond maxConcurrentStreams they are refused (or the connection closed), others are served", async () => {
    // A raw HTTP/2 client that ignores the server's SETTINGS_MAX_CONCURRENT_STREAMS (node's own client would queue).
    const { host, port } = { host: "127.0.0.1", port: Number(micro.address.slice(micro.address.lastIndexOf(":") + 1)) };
    const frame = (type: number, flags: number, id: number, payload: Buffer) => {
      const h = Buffer.alloc(9);
      h.writeUIntBE(payload.length, 0, 3);
      h[3] = type;
      h[4] = flags;
      h.writeUInt32BE(id, 5);
      return Buffer.concat([h, payload]);
    };
    const str = (v: string) => Buffer.concat([Buffer.from([v.length]), Buffer.from(v)]);
    // HPACK: :method POST (3), :scheme http (6), :path literal (indexed name 4), content-type (31), te: trailers.
    const block = Buffer.concat([Buffer.from([0x83, 0x86, 0x04]), str("/greeter.v1.Greeter/Chat"), Buffer.from([0x0f, 0x10]), str("application/grpc"), Buffer.from([0x00]), str("te"), str("trailers")]);
    let refused = 0;
    let goaway = false;
    await new Promise<void>((resolve, reject) => {
      const sock = netConnect({ host, port }, () => {
        const out: Buffer[] = [Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(4, 0, 0, Buffer.alloc(0))];
        for (let i = 0; i < 3000; i++) out.push(frame(1, 0x4, 1 + 2 * i, block));
        sock.write(Buffer.concat(out));
      });
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => (sock.destroy(), reject(new Error(`no refusal seen (refused ${refused})`))), 30_000);
      sock.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 9) {
          const len = buf.readUIntBE(0, 3);
          if (buf.length < 9 + len) break;
          const type = buf[3]!;
          if (type === 4 && (buf[4]! & 1) === 0) sock.write(frame(4, 1, 0, Buffer.alloc(0)));
          if (type === 3 && buf.readUInt32BE(9) === constants.NGHTTP2_REFUSED_STREAM) refused++;
          if (type === 7) goaway = true;
          buf = buf.subarray(9 + len);
        }
        if (refused > 0 || goaway) {
          clearTimeout(timer);
          sock.destroy();
          resolve();
        }
      });
      sock.on("error", () => {
        // The server may reset a flooding connection: that is the expected outcome, checked below.
      });
      sock.on("close", () => {
        clearTimeout(timer);
        goaway = true;
        resolve();
      });
    });
    assert.ok(refused > 0 || goaway, "the flood was refused");
    await served();
  });
});
