/**
 * The handler table and dispatch (Go Micro's `rpc_router.go`): handlers registered per endpoint with their
 * wrappers composed once, and each incoming stream served by its endpoint's handler — decode by content
 * type, call, encode the reply in the same content type, end the stream with the handler's error or metadata.
 */
import type { Codec, MessageCodec } from "../codec/index.js";
import { CodecCache } from "../codec/cache.js";
import { allowUnknownJsonFields } from "../codec/proto-json.js";
import { endpointName, type MethodDefinition, type ServiceDefinition } from "../definition/index.js";
import { MicroError, fromError } from "../errors/index.js";
import { applyWrappers } from "../internal/wrappers.js";
import { logger } from "../logger/index.js";
import type { RequestHeader, ServerStream } from "../transport/index.js";
import { CallContext } from "./context.js";
import { HEALTH_ENDPOINT, healthMethod } from "./health.js";
import type { Context, HandlerFunc, HandlerOptions, HandlerWrapper } from "./server.js";

type Invoke = (body: unknown, context: Context) => unknown;

/** One endpoint of a registered handler. */
export interface Entry {
  readonly endpoint: string;
  readonly definition: ServiceDefinition;
  readonly key: string;
  readonly method: MethodDefinition;
  readonly implementation: object;
  readonly options: HandlerOptions;
  invoke: Invoke;
}

const noop = (): void => {};

/** The gRPC path of a method: `/<package>.<Service>/<Method>`. */
function grpcPathOf(definition: ServiceDefinition, method: MethodDefinition): string {
  return `/${definition.fullName}/${method.name}`;
}
const log = logger("server");

export class Router {
  private readonly entries = new Map<string, Entry>();
  /** The same entries by gRPC path, `/<definition fullName>/<method name>` (the grpc transport addresses by path). */
  private readonly paths = new Map<string, Entry>();
  private readonly codecs = new CodecCache();
  private readonly health: Entry;
  /** The service name requests must be addressed to. */
  private name: string;
  /** The server's wrappers, around every handler's own. */
  private wrappers: readonly HandlerWrapper[];

  /** `status` answers `Debug.Health` (the server's lifecycle state). */
  constructor(name: string, wrappers: readonly HandlerWrapper[] | undefined, status: () => string | Promise<string>) {
    this.name = name;
    this.wrappers = wrappers ?? [];
    this.health = {
      endpoint: HEALTH_ENDPOINT,
      definition: { name: "Debug", fullName: "micro.debug.Debug", methods: { health: healthMethod } },
      key: "health",
      method: healthMethod,
      implementation: {},
      options: { internal: true },
      invoke: async () => ({ status: await status() }),
    };
    this.paths.set(grpcPathOf(this.health.definition, healthMethod), this.health);
  }

  /** New server options (before start); {@link recompose} applies new wrappers to the handlers added so far. */
  configure(name: string, wrappers: readonly HandlerWrapper[] | undefined): void {
    this.name = name;
    this.wrappers = wrappers ?? [];
  }

  /** The registered endpoints (without the built-in health endpoint). */
  handlers(): Iterable<Entry> {
    return this.entries.values();
  }

  /** Add every method of `definition`; throws a TypeError for a missing method or an endpoint already handled. */
  handle(definition: ServiceDefinition, implementation: object, options: HandlerOptions): void {
    const impl = implementation as Record<string, unknown>;
    for (const [key, method] of Object.entries(definition.methods)) {
      const endpoint = endpointName(definition, method);
      if (typeof impl[key] !== "function") {
        throw new TypeError(`handler for ${definition.fullName} has no function "${key}" (endpoint ${endpoint}); implement every method of the service`);
      }
      if (this.entries.has(endpoint)) throw new TypeError(`endpoint ${endpoint} is already handled on this server`);
      const entry: Entry = { endpoint, definition, key, method: options.allowUnknownJsonFields ? { ...method, input: allowUnknownJsonFields(method.input) } : method, implementation, options, invoke: noop };
      this.compose(entry);
      this.entries.set(endpoint, entry);
      this.paths.set(grpcPathOf(definition, method), entry);
    }
  }

  /** Compose every handler again (at start, with the wrappers the options name then). */
  recompose(): void {
    for (const entry of this.entries.values()) this.compose(entry);
  }

  /** Build the wrapped call of one endpoint once, so serving a request allocates as little as possible. */
  private compose(entry: Entry): void {
    const impl = entry.implementation as Record<string, (body: unknown, context: Context) => unknown>;
    const fn = impl[entry.key]!;
    const wrappers = [...this.wrappers, ...(entry.options.wrappers ?? [])];
    if (wrappers.length === 0) {
      entry.invoke = (body, context) => fn.call(impl, body, context);
      return;
    }
    const h = applyWrappers<HandlerFunc>(wrappers, (request) => fn.call(impl, request.body, request.context));
    const { definition, key } = entry;
    entry.invoke = (body, context) => h({ service: context.service, endpoint: context.endpoint, definition, method: key, body, context });
  }

  /** A 500 naming what the handler returned instead of its response message. */
  private notAResponse(entry: Entry, value: unknown): MicroError {
    return MicroError.internalServerError(this.name, `${entry.endpoint}: handler returned ${describe(value)}, expected ${entry.method.output.typeName}`);
  }

  private notFound(service: string, endpoint: string): MicroError {
    const names = [...this.entries.keys()].join(", ") || "none";
    if (service !== this.name) {
      return MicroError.notFound("micro.server", `unknown service "${service}": this server is "${this.name}" with endpoints ${names}`);
    }
    return MicroError.notFound("micro.server", `unknown endpoint "${endpoint}" on service "${service}"; it has: ${names}`);
  }

  /**
   * The entry of a call addressed by gRPC path: the exact `/<fullName>/<Method>`, else (Go Micro's grpc client
   * names `/<service name>.<Service>/<Method>`) the endpoint when the path's package is this server's name.
   */
  private byPath(h: RequestHeader): Entry | undefined {
    const exact = this.paths.get(h.path!);
    if (exact !== undefined || h.service !== this.name) return exact;
    return this.entries.get(h.endpoint) ?? (h.endpoint === HEALTH_ENDPOINT ? this.health : undefined);
  }

  /** Serve one stream; never throws (a failure ends that stream with an error). */
  serve(stream: ServerStream): void {
    const h = stream.header;
    let entry: Entry | undefined;
    if (h.path !== undefined) {
      entry = this.byPath(h);
      if (entry === undefined) {
        const names = [...this.paths.keys()].join(", ");
        stream.close(new MicroError("micro.server", 501, `unknown gRPC method ${h.path} on service "${this.name}"; it serves: ${names}`));
        return;
      }
    } else entry = this.entries.get(h.endpoint);
    if (entry === undefined || (h.service !== this.name && h.path === undefined)) {
      if (h.endpoint === HEALTH_ENDPOINT) entry = this.health;
      else {
        stream.close(this.notFound(h.service, h.endpoint));
        return;
      }
    }
    let codec: Codec;
    try {
      codec = this.codecs.get(h.contentType);
    } catch (error) {
      stream.close(fromError(error, "micro.server"));
      return;
    }
    const context = new CallContext(stream, this.name);
    const run = entry.method.kind === "unary" ? this.unary(stream, entry, codec, context) : this.streaming(stream, entry, codec, context);
    run.catch((error: unknown) => {
      const e = fromError(error, this.name);
      if (e.code >= 500 && !stream.signal.aborted) log.warn({ endpoint: h.endpoint, err: error }, "handler failed");
      stream.close(e, context.sentMetadata());
    });
  }

  private async unary(stream: ServerStream, entry: Entry, codec: Codec, context: CallContext): Promise<void> {
    const output = entry.method.output;
    const request = decodeRequest(codec, entry.method.input, await firstMessage(stream, entry));
    const response = await entry.invoke(request, context);
    if (!isMessage(response, output)) throw this.notAResponse(entry, response);
    // A send refused (a response over the client's limit) ends the call with its 413, never with success.
    await stream.send(codec.marshal(output, response));
    stream.close(undefined, context.sentMetadata());
  }

  private async streaming(stream: ServerStream, entry: Entry, codec: Codec, context: CallContext): Promise<void> {
    const m = entry.method;
    const input = m.kind === "client_streaming" || m.kind === "bidi_streaming" ? decodeAll(stream, codec, m.input) : decodeRequest(codec, m.input, await firstMessage(stream, entry));
    const result = await entry.invoke(input, context);
    if (m.kind === "client_streaming") {
      if (!isMessage(result, m.output)) throw this.notAResponse(entry, result);
      await stream.send(codec.marshal(m.output, result));
    } else {
      if (result === null || typeof result !== "object" || !(Symbol.asyncIterator in result || Symbol.iterator in result)) {
        throw MicroError.internalServerError(this.name, `${entry.endpoint}: a streaming handler must return an (async) iterable, e.g. an async generator`);
      }
      await sendAll(stream, entry.endpoint, result as AsyncIterable<unknown> | Iterable<unknown>, (message) => {
        if (!isMessage(message, m.output)) throw this.notAResponse(entry, message);
        return codec.marshal(m.output, message);
      });
    }
    stream.close(undefined, context.sentMetadata());
  }
}

/**
 * Send every message of a streaming handler's result. When the call ends early (CANCEL, deadline, lost
 * connection) the iterator's `return()` is called at once, not after its next message: a generator waiting
 * at a `yield` (we are sending) runs its `finally` blocks now, one busy computing does so at its next yield.
 */
async function sendAll(stream: ServerStream, endpoint: string, messages: AsyncIterable<unknown> | Iterable<unknown>, marshal: (m: unknown) => Uint8Array): Promise<void> {
  const source: AsyncIterable<unknown> =
    Symbol.asyncIterator in messages
      ? messages
      : (async function* () {
          yield* messages;
        })();
  const it = source[Symbol.asyncIterator]();
  let done = false;
  // Closing runs the handler's `finally` blocks; an error they throw has no caller left to reach, so it is logged.
  const close = (): Promise<void> => {
    let closing: unknown;
    try {
      closing = it.return?.();
    } catch (error) {
      closing = Promise.reject(error);
    }
    return Promise.resolve(closing).then(noop, (err: unknown) => log.warn({ endpoint, err }, "streaming handler failed while closing (an error thrown in its finally)"));
  };
  const stop = (): void => {
    if (!done) void close();
  };
  stream.signal.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) {
        done = true;
        return;
      }
      if (stream.signal.aborted) return;
      await stream.send(marshal(r.value));
    }
  } finally {
    stream.signal.removeEventListener("abort", stop);
    // A send failed: close the iterator as for-await would (the send's error is what the caller sees).
    if (!done && !stream.signal.aborted) await close();
  }
}

/** The request of a unary or server-streaming call; a call that ended without one is refused, never served as `{}`. */
async function firstMessage(stream: ServerStream, entry: Entry): Promise<Uint8Array> {
  const r = await stream[Symbol.asyncIterator]().next();
  if (r.done) throw MicroError.badRequest("micro.server", `${entry.endpoint}: the client ended the call without a request message (${entry.method.input.typeName}); nothing was served`);
  return r.value;
}

/**
 * Whether a handler's result can be the response message: an object that is not an array or a byte array,
 * and, for a protobuf-es message (which carries `$typeName`), of the response's type. Plain objects pass
 * (ts-proto messages are plain objects; the codec checks their fields). No allocation on success.
 */
function isMessage(value: unknown, output: MessageCodec<unknown>): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) return false;
  const typeName = (value as { $typeName?: unknown }).$typeName;
  return typeName === undefined || typeName === output.typeName;
}

/** What a handler returned, for the error that refuses it: `number 42`, `string "x"`, `an array`, `null`, … */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  switch (typeof value) {
    case "undefined":
      return "undefined (no response)";
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value} ${String(value)}`;
    case "object": {
      const typeName = (value as { $typeName?: unknown }).$typeName;
      return typeof typeName === "string" ? `a ${typeName}` : "an object";
    }
    default:
      return `a ${typeof value}`;
  }
}

async function* decodeAll(stream: ServerStream, codec: Codec, input: MessageCodec<unknown>): AsyncGenerator<unknown> {
  for await (const bytes of stream) yield decodeRequest(codec, input, bytes);
}

/** Decode one request message; a malformed one is the caller's fault (400), not the handler's. */
function decodeRequest(codec: Codec, input: MessageCodec<unknown>, bytes: Uint8Array): unknown {
  try {
    return codec.unmarshal(input, bytes);
  } catch (error) {
    if (error instanceof MicroError) throw error;
    throw MicroError.badRequest("micro.server", `cannot decode ${input.typeName} from ${codec.contentType}: ${(error as Error)?.message ?? String(error)}`);
  }
}
