/** The micro-ts side of bench/rpc.ts: a greeter service; prints `{"event":"ready"}` when registered. */
import { newService, type Context, type RpcServer } from "../src/index.js";
import { BenchGreeter, type HelloRequest, type HelloResponse } from "./rpc-messages.js";

const service = newService({ name: "bench-greeter" });
service.init();
service.server().handle(BenchGreeter, {
  hello: (request: HelloRequest): HelloResponse => ({ message: `Hello ${request.name}` }),
  async *stream(request: HelloRequest, context: Context): AsyncIterable<HelloResponse> {
    const n = Number(request.name);
    for (let i = 0; i < n && !context.signal.aborted; i++) yield { message: `message ${i}` };
  },
});
await service.start();
process.stdout.write(JSON.stringify({ event: "ready", address: (service.server() as RpcServer).address }) + "\n");
await service.run();
