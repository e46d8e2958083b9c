/**
 * The standard services every grpc server answers, asked by a foreign client (@grpc/grpc-js with raw bytes, as
 * a generic probe or grpcurl would): grpc.health.v1.Health/Check and Watch, and server reflection's
 * list_services on v1 and v1alpha. Drain turns health to NOT_SERVING.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { startMicroGreeter, type MicroGreeter } from "./greeter.js";

let greeter: MicroGreeter;
let client: grpc.Client;

before(async () => {
  greeter = await startMicroGreeter();
  client = new grpc.Client(greeter.address, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  await greeter.stop();
});

const raw = (b: Buffer): Buffer => b;

function unary(path: string, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => client.makeUnaryRequest(path, raw, raw, request, (err, rsp) => (err ? reject(err) : resolve(rsp!))));
}

/** `HealthCheckRequest { service }` in protobuf's wire format. */
const healthRequest = (service: string): Buffer => (service === "" ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, service.length]), Buffer.from(service)]));

test("Health/Check answers SERVING for the server and for a served service, NOT_FOUND for another", async () => {
  assert.deepEqual([...(await unary("/grpc.health.v1.Health/Check", healthRequest("")))], [0x08, 0x01]);
  assert.deepEqual([...(await unary("/grpc.health.v1.Health/Check", healthRequest("greeter.v1.Greeter")))], [0x08, 0x01]);
  await assert.rejects(unary("/grpc.health.v1.Health/Check", healthRequest("no.such.Service")), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
});

for (const version of ["v1", "v1alpha"]) {
  test(`reflection ${version}: list_services names the greeter and the standard services`, async () => {
    const call = client.makeBidiStreamRequest(`/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`, raw, raw);
    const got = new Promise<Buffer>((resolve, reject) => {
      call.once("data", (b: Buffer) => resolve(b));
      call.once("error", reject);
    });
    call.write(Buffer.from([0x3a, 0x00])); // list_services: ""
    const response = (await got).toString("latin1");
    call.end();
    for (const name of ["greeter.v1.Greeter", "grpc.health.v1.Health", `grpc.reflection.${version}.ServerReflection`]) assert.ok(response.includes(name), `${name} listed`);
  });
}

test("Health/Watch reports SERVING, then NOT_SERVING when the server drains", async () => {
  const watch = client.makeServerStreamRequest("/grpc.health.v1.Health/Watch", raw, raw, healthRequest(""));
  const statuses: number[] = [];
  const ended = new Promise<void>((resolve) => {
    watch.on("data", (b: Buffer) => statuses.push(b[1] ?? 0));
    watch.on("error", () => resolve());
    watch.on("end", () => resolve());
  });
  await new Promise<void>((resolve) => watch.once("data", () => resolve()));
  await greeter.server.stop();
  await ended;
  assert.deepEqual(statuses, [1, 2]);
});
