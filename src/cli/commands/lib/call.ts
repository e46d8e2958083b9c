/**
 * `micro call` and `micro stream`: JSON requests to any endpoint through the runtime client, with content
 * type application/json and the pass-through `rawJsonCodec` (the server decodes with the endpoint's codec).
 */
import type { CallOptions } from "../../../runtime/client/index.js";
import type { MethodKind } from "../../../runtime/definition/index.js";
import { isUnreachable } from "../../../runtime/errors/classify.js";
import { fromError, MicroError } from "../../../runtime/errors/index.js";
import { jsonTarget, lookupEndpointKind } from "../../../runtime/target/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";
import { durationFlag, formatReply, isStdinArgument, metadataWithToken, ndjson, ndjsonStdin, out, requestObjectArgument, requireRequestObject, runCommand } from "./io.js";
import { openBackend, type Backend, type BackendRegistry } from "./backend.js";
import { commandIo } from "./context.js";

export interface CallArguments {
  service: string;
  endpoint: string;
  request?: string;
  metadata?: string[];
  /** Bearer token sent as `authorization` metadata (default: MICRO_AUTH_TOKEN). */
  token?: string;
  timeout?: string;
  address?: string;
  output: "json" | "text";
  [flag: string]: unknown;
}

export interface StreamArguments {
  service: string;
  endpoint: string;
  request?: string;
  kind?: "server" | "client" | "bidi";
  metadata?: string[];
  /** Bearer token sent as `authorization` metadata (default: MICRO_AUTH_TOKEN). */
  token?: string;
  timeout?: string;
  address?: string;
  [flag: string]: unknown;
}

const ENDPOINT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

function checkEndpoint(endpoint: string): void {
  if (!ENDPOINT.test(endpoint)) throw new UsageError(`endpoint "${endpoint}" must look like Service.Method, e.g. Greeter.Hello`);
}

function callOptions(args: { metadata?: string[]; token?: string; timeout?: string; address?: string }): CallOptions {
  const options: CallOptions = { contentType: "application/json", metadata: metadataWithToken(args.metadata, args.token) };
  const signal = commandIo().signal;
  if (signal !== undefined) options.signal = signal;
  const timeout = durationFlag(args.timeout, "timeout");
  if (timeout !== undefined) options.timeout = timeout;
  if (args.address) options.address = args.address;
  return options;
}

/** What to do when a service is not in the registry. */
export const NOT_REGISTERED_HINT = "is it running, and on the same registry (--registry / MICRO_REGISTRY, --registry_address)? `micro list services` shows what is registered";

/**
 * A connection failure says what failed (`dial 127.0.0.1:4000: ECONNREFUSED`) but not why nor what to do:
 * add that. The registry is asked again: a node that has deregistered since (a service stopped with SIGTERM
 * while the call was in flight) is not described as one that stopped without deregistering. Other errors are
 * returned as they are.
 */
export async function explainConnectionError(error: unknown, service: string, address: string | undefined, registry?: BackendRegistry, proxy?: string): Promise<unknown> {
  // Through a sidecar, its own errors already say what failed and where.
  if (!isUnreachable(error) || proxy !== undefined) return error;
  const e = error instanceof MicroError ? error : fromError(error, "micro.cli");
  let hint: string;
  if (address !== undefined) {
    hint = `nothing answers at ${address}: is ${service} running there?`;
  } else if (registry && (await stillRegistered(registry, service, e.detail)) === false) {
    hint = `${service} stopped while the call was in flight (its node has deregistered); call again once it is running`;
  } else {
    hint = `${service} is registered but its node does not answer: is the service still running? A node that stopped without deregistering stays registered until its TTL runs out (--register_ttl); \`micro health ${service}\` checks each node`;
  }
  return new MicroError(e.id, e.code, `${e.detail} — ${hint}`);
}

/**
 * Whether the node a failed call went to is still registered: false when the service has no node left, or
 * none at the address the error names; undefined when the registry cannot tell.
 */
async function stillRegistered(registry: BackendRegistry, service: string, detail: string): Promise<boolean | undefined> {
  try {
    const nodes = (await registry.getService(service)).flatMap((r) => r.nodes);
    if (nodes.length === 0) return false;
    const named = nodes.filter((n) => detail.includes(n.address));
    const mentioned = /\b\d{1,3}(\.\d{1,3}){3}:\d+\b|\[[0-9a-fA-F:]+\]:\d+/.test(detail);
    return mentioned ? named.length > 0 : true;
  } catch {
    return undefined;
  }
}

export async function call(args: CallArguments): Promise<void> {
  checkEndpoint(args.endpoint);
  const options = callOptions(args);
  const request = await requestObjectArgument(args.request);
  const rt = await openBackend(args);
  await runCommand(async () => {
    const reply = await rt.client.call(jsonTarget(args.service, args.endpoint), request, options).catch(async (error: unknown) => {
      throw await explainConnectionError(error, args.service, args.address, rt.registry, rt.proxy);
    });
    out(formatReply(reply, args.output));
  }, rt.close);
}

const KIND_FLAG: Record<string, MethodKind> = { server: "server_streaming", client: "client_streaming", bidi: "bidi_streaming" };

/** The NDJSON lines of a request argument (client and bidi streams). */
async function* requestLines(text: string): AsyncGenerator<unknown> {
  for await (const m of ndjson(text.split("\n"), (n, error) => `request line ${n} is not valid JSON (${error.message})`)) yield requireRequestObject(m);
}

/** Request messages from stdin (client and bidi streams), each a JSON object. */
async function* stdinRequests(): AsyncGenerator<unknown> {
  for await (const m of ndjsonStdin()) yield requireRequestObject(m);
}

/**
 * Check a request argument before anything is looked up: one JSON value (unary and server streams) or NDJSON
 * lines (client and bidi streams); which one applies is known only later, from the registry.
 * @throws UsageError naming the first bad line.
 */
async function checkStreamRequest(text: string | undefined): Promise<void> {
  if (text === undefined || isStdinArgument(text)) return;
  let one: unknown;
  try {
    one = JSON.parse(text);
  } catch {
    // Not one value: then every non-empty line must be one.
  }
  if (one !== undefined) {
    requireRequestObject(one);
    return;
  }
  const lines = text.split("\n");
  const where = (n: number): string => (lines.length > 1 ? `line ${n} of the request` : "the request");
  const bad = (n: number, error: Error): string =>
    `${where(n)} is not valid JSON (${error.message}); quote it, e.g. '{"name":"John"}' (client and bidi streams: one JSON value per line)`;
  for await (const m of ndjson(lines, bad)) requireRequestObject(m);
}

export async function stream(args: StreamArguments): Promise<void> {
  checkEndpoint(args.endpoint);
  await checkStreamRequest(args.request);
  const options = callOptions(args);
  const rt = await openBackend(args);
  await runCommand(async () => {
    try {
      await streamBody(rt, args, options);
    } catch (error) {
      throw await explainConnectionError(error, args.service, args.address, rt.registry, rt.proxy);
    }
  }, rt.close);
}

async function streamBody(rt: Backend, args: StreamArguments, options: CallOptions): Promise<void> {
  const kind = args.kind ? KIND_FLAG[args.kind]! : await lookupEndpointKind(rt.registry, args.service, args.endpoint, "micro.cli", `${NOT_REGISTERED_HINT}; or pass --kind with --address to skip the registry`);
  const target = jsonTarget(args.service, args.endpoint, kind);
  const print = (m: unknown): void => out(JSON.stringify(m));
  if (kind === "unary") {
    print(await rt.client.call(target, await requestObjectArgument(args.request), options));
  } else if (kind === "server_streaming") {
    for await (const m of rt.client.serverStream(target, await requestObjectArgument(args.request), options)) print(m);
  } else {
    const requests = args.request !== undefined && !isStdinArgument(args.request) ? requestLines(args.request) : stdinRequests();
    if (kind === "client_streaming") print(await rt.client.clientStream(target, requests, options));
    else for await (const m of rt.client.bidiStream(target, requests, options)) print(m);
  }
}
