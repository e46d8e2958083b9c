/**
 * The gateway's auth: every call it makes for an HTTP request (unary, SSE/NDJSON streams, WebSocket, events)
 * first passes the one auth check (`runtime/auth`'s authorizer) with the request's `authorization` header,
 * which the gateway forwards to the service as call metadata. A refusal is a 401/403 MicroError, so the
 * gateway answers it in its `{id, code, detail, status}` shape (401 with `WWW-Authenticate: Bearer`).
 * Events (`--handler event`) are checked as service `<topic>`, endpoint `Publish`; requests the `http` handler
 * proxies as service `<service>`, endpoint `<METHOD> <path>` (e.g. `GET /greeter/items`), in handlers/http.ts.
 */
import type { CallOptions, CallTarget, Client, PublishOptions } from "../runtime/client/index.js";
import { authorizationOf, type Authorizer } from "../runtime/auth/index.js";
import type { Metadata } from "../runtime/metadata/index.js";

const EMPTY: Metadata = {};

function check(authorizer: Authorizer, service: string, endpoint: string, metadata: Metadata | undefined): Promise<unknown> {
  return authorizer.authorize(authorizationOf(metadata ?? EMPTY), service, endpoint);
}

async function* checkedStream<O>(authorized: () => Promise<unknown>, open: () => AsyncIterable<O>): AsyncIterable<O> {
  await authorized();
  yield* open();
}

/** `client` with the auth check before every call and publish. */
export function authorizingClient(client: Client, authorizer: Authorizer): Client {
  return {
    async call<I, O>(target: CallTarget<I, O>, request: I, options?: CallOptions): Promise<O> {
      await check(authorizer, target.service, target.endpoint, options?.metadata);
      return client.call(target, request, options);
    },
    serverStream<I, O>(target: CallTarget<I, O>, request: I, options?: CallOptions): AsyncIterable<O> {
      return checkedStream(() => check(authorizer, target.service, target.endpoint, options?.metadata), () => client.serverStream(target, request, options));
    },
    async clientStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options?: CallOptions): Promise<O> {
      await check(authorizer, target.service, target.endpoint, options?.metadata);
      return client.clientStream(target, requests, options);
    },
    bidiStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options?: CallOptions): AsyncIterable<O> {
      return checkedStream(() => check(authorizer, target.service, target.endpoint, options?.metadata), () => client.bidiStream(target, requests, options));
    },
    async publish<T>(topic: string, message: T, options?: PublishOptions<T>): Promise<void> {
      await check(authorizer, topic, "Publish", options?.metadata);
      return client.publish(topic, message, options);
    },
  };
}
