/**
 * `micro call` and `micro stream`: JSON requests to any endpoint through the runtime client, with content
 * type application/json and the pass-through `rawJsonCodec` (the server decodes with the endpoint's codec).
 */
import { jsonTarget } from "../../../api/targets.js";
import { endpointKind } from "../../../api/routes.js";
import type { CallOptions } from "../../../runtime/client/index.js";
import type { MethodKind } from "../../../runtime/definition/index.js";
import { MicroError } from "../../../runtime/errors/index.js";
import type { Registry } from "../../../runtime/registry/index.js";
import { UsageError } from "../../usage-error.js";
import type { CallArguments } from "../call.js";
import type { StreamArguments } from "../stream.js";
import { durationFlag, formatReply, isStdinArgument, metadataFlag, ndjsonStdin, out, requestArgument, runCommand } from "./io.js";
import { openRuntime } from "./runtime.js";

const ENDPOINT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

function checkEndpoint(endpoint: string): void {
  if (!ENDPOINT.test(endpoint)) throw new UsageError(`endpoint "${endpoint}" must look like Service.Method, e.g. Greeter.Hello`);
}

function callOptions(args: { metadata?: string[]; timeout?: string; address?: string }): CallOptions {
  const options: CallOptions = { contentType: "application/json", metadata: metadataFlag(args.metadata) };
  const timeout = durationFlag(args.timeout, "timeout");
  if (timeout !== undefined) options.timeout = timeout;
  if (args.address) options.address = args.address;
  return options;
}

export async function call(args: CallArguments): Promise<void> {
  checkEndpoint(args.endpoint);
  const options = callOptions(args);
  const request = await requestArgument(args.request);
  const rt = await openRuntime(args);
  await runCommand(async () => {
    const reply = await rt.client.call(jsonTarget(args.service, args.endpoint), request, options);
    out(formatReply(reply, args.output));
  }, rt.close);
}

const KIND_FLAG: Record<string, MethodKind> = { server: "server_streaming", client: "client_streaming", bidi: "bidi_streaming" };

/** The stream kind of an endpoint as its server published it. */
async function lookupKind(registry: Registry, service: string, endpoint: string): Promise<MethodKind> {
  const records = await registry.getService(service);
  if (records.length === 0) throw MicroError.notFound("micro.cli", `service ${service} is not registered (pass --kind with --address to skip the registry)`);
  for (const rec of records) {
    const ep = rec.endpoints.find((e) => e.name === endpoint);
    if (ep) return endpointKind(ep);
  }
  throw MicroError.notFound("micro.cli", `service ${service} has no endpoint ${endpoint}; \`micro get service ${service}\` lists them`);
}

async function* linesOf(text: string): AsyncGenerator<unknown> {
  let n = 0;
  for (const line of text.split("\n")) {
    n++;
    if (line.trim() === "") continue;
    try {
      yield JSON.parse(line);
    } catch (error) {
      throw new UsageError(`request line ${n} is not valid JSON (${(error as Error).message})`);
    }
  }
}

export async function stream(args: StreamArguments): Promise<void> {
  checkEndpoint(args.endpoint);
  const options = callOptions(args);
  const rt = await openRuntime(args);
  await runCommand(async () => {
    const kind = args.kind ? KIND_FLAG[args.kind]! : await lookupKind(rt.plugins.registry, args.service, args.endpoint);
    const target = jsonTarget(args.service, args.endpoint, kind);
    const print = (m: unknown): void => out(JSON.stringify(m));
    if (kind === "unary") {
      print(await rt.client.call(target, await requestArgument(args.request), options));
    } else if (kind === "server_streaming") {
      for await (const m of rt.client.serverStream(target, await requestArgument(args.request), options)) print(m);
    } else {
      const requests = args.request !== undefined && !isStdinArgument(args.request) ? linesOf(args.request) : ndjsonStdin();
      if (kind === "client_streaming") print(await rt.client.clientStream(target, requests, options));
      else for await (const m of rt.client.bidiStream(target, requests, options)) print(m);
    }
  }, rt.close);
}
