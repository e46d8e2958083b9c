/** The grpc-js side of bench/rpc.ts: the same greeter over @grpc/grpc-js; prints its address when bound. */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { grpcDescriptor, type HelloRequest, type HelloResponse } from "./rpc-messages.js";

const definition = protoLoader.fromJSON(grpcDescriptor, { keepCase: true, defaults: true });
const proto = grpc.loadPackageDefinition(definition) as any;
const server = new grpc.Server();
server.addService(proto.bench.Greeter.service, {
  Hello: (call: grpc.ServerUnaryCall<HelloRequest, HelloResponse>, callback: grpc.sendUnaryData<HelloResponse>) => {
    callback(null, { message: `Hello ${call.request.name}` });
  },
  Stream: async (call: grpc.ServerWritableStream<HelloRequest, HelloResponse>) => {
    const n = Number(call.request.name);
    for (let i = 0; i < n && !call.cancelled; i++) {
      // Respect backpressure as a real server must.
      if (!call.write({ message: `message ${i}` })) await new Promise((r) => call.once("drain", r));
    }
    call.end();
  },
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  process.stdout.write(JSON.stringify({ event: "ready", address: `127.0.0.1:${port}` }) + "\n");
});
process.once("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
