/**
 * How the gateway calls a backend for a request: the call options, the signal that ends a call when the
 * HTTP client goes away, and a unary call bounded by the gateway's timeout.
 */
import type { FastifyReply } from "fastify";
import type { CallOptions, CallTarget } from "../runtime/client/index.js";
import { MicroError } from "../runtime/errors/index.js";
import type { Metadata } from "../runtime/metadata/index.js";
import { callAbort } from "./call-abort.js";
import type { GatewayContext } from "./context.js";

/**
 * Call options for one gateway request. Unary calls get the backend timeout; streams live as long as the
 * client stays connected (they end on the client's disconnect, through `signal`).
 */
export function callOptions(ctx: Pick<GatewayContext, "timeout">, metadata: Metadata, signal: AbortSignal, contentType = "application/json", stream = false): CallOptions {
  return stream ? { metadata, signal, contentType } : { timeout: ctx.timeout, metadata, signal, contentType };
}

/** Aborts when the client goes away before the response is complete. */
export function disconnectSignal(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) ac.abort(new Error("client disconnected"));
  });
  return ac.signal;
}

/**
 * One unary call for an HTTP request, bounded as a whole by the gateway's timeout (retries included) and
 * cancelled when the client goes away. Running out of time is a 504. `address` skips discovery (`micro sidecar`'s
 * `/rpc` with an address).
 */
export async function callUnary<I, O>(
  ctx: GatewayContext,
  reply: FastifyReply,
  target: CallTarget<I, O>,
  request: I,
  metadata: Metadata,
  contentType = "application/json",
  address?: string,
): Promise<O> {
  const call = callAbort(reply.raw);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    call.abort(new Error("gateway timeout"));
  }, ctx.timeout);
  try {
    return await ctx.client.call(target, request, { timeout: ctx.timeout, metadata, signal: call.signal, contentType, ...(address ? { address } : {}) });
  } catch (error) {
    if (timedOut) throw new MicroError("micro.api", 504, `${target.service} did not answer ${target.endpoint} within ${ctx.timeout} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
    call.release();
  }
}
