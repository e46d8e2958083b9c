/**
 * The server of bench/rpc-production.ts: the bench greeter with (BENCH_PRODUCTION=1) or without the
 * production wrappers — auth (HS256 bearer tokens), tracing (OpenTelemetry API spans; no SDK, so the no-op
 * tracer) and metrics (prom-client). Prints `{"event":"ready"}` when registered.
 */
import { authHandlerWrapper, metricsHandlerWrapper, newService, type HandlerWrapper, type RpcServer } from "../src/index.js";
import { BenchGreeter, type HelloRequest, type HelloResponse } from "./rpc-messages.js";
import { BENCH_SECRET, tracingHandlerWrapper } from "./support/production-wrappers.js";

const on = process.env.BENCH_PRODUCTION === "1";
const wrappers: HandlerWrapper[] = on ? [tracingHandlerWrapper(), metricsHandlerWrapper(), authHandlerWrapper({ secret: BENCH_SECRET })] : [];
const service = newService({ name: on ? "bench-greeter-production" : "bench-greeter-bare", wrapHandler: wrappers });
service.init();
service.server().handle(BenchGreeter, {
  hello: (request: HelloRequest): HelloResponse => ({ message: `Hello ${request.name}` }),
  async *stream(request: HelloRequest): AsyncIterable<HelloResponse> {
    yield { message: request.name };
  },
});
await service.start();
process.stdout.write(JSON.stringify({ event: "ready", address: (service.server() as RpcServer).address }) + "\n");
await service.run();
