/**
 * The client: calls services by name (registry lookup → selector → pooled transport connection), with
 * retries, backoff, timeouts, cancellation and wrappers. Generated clients (`newGreeterClient`) are thin
 * typed layers over this interface.
 */
export * from "./client.js";
export { newClient, RpcClient, type ClientOptions } from "./rpc-client.js";
