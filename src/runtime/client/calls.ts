/**
 * One attempt at one node, in each of the four call shapes (unary, server stream, client stream, bidi
 * stream): open a stream on a pooled connection, send the request message(s), read the response(s), and
 * hand over the trailer's metadata. Discovery, retries and wrappers are the client's (rpc-client.ts).
 */
import type { Codec, JsonReadOptions, MessageCodec } from "../codec/index.js";
import { CodecCache } from "../codec/cache.js";
import { MicroError } from "../errors/index.js";
import { markFinal } from "../errors/classify.js";
import type { Metadata } from "../metadata/index.js";
import type { NodeRecord } from "../registry/index.js";
import type { ClientStream, Connection } from "../transport/index.js";
import type { ClientRequest } from "./client.js";
import { CallGuard } from "./call-guard.js";
import type { ConnectionPool } from "../transport/pool.js";
import { secureFromMetadata } from "../transport/tls.js";
import { GRPC_SERVICES_KEY, grpcPath } from "../transport/grpc/headers.js";

/**
 * Responses are read leniently about fields this client's types do not have (a newer server may have added
 * some), as binary protobuf skips unknown fields; requests are strict on the server.
 */
const RESPONSE_READ: JsonReadOptions = Object.freeze({ ignoreUnknownFields: true });

const EMPTY: Metadata = Object.freeze({}) as Metadata;
/**
 * For the promise of a request's only send: a failed send also fails the stream (ClientStream.send), and the
 * call reports that error from its read of the response. This only keeps the duplicate from going unhandled.
 */
const reportedByStream = (): void => {};

/** The gRPC path of a call: the target's own, else built from the node's published full service names (if any). */
function pathFor(node: NodeRecord, req: ClientRequest): string | undefined {
  if (req.path !== undefined) return req.path;
  const services = node.metadata?.[GRPC_SERVICES_KEY];
  return services ? grpcPath(req.service, req.endpoint, services) : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface PumpState {
  stopped: boolean;
  error?: unknown;
}

export interface CallsOptions {
  /** Milliseconds each unary attempt may take when the call gives no `timeout`. */
  timeout: number;
  /** The codec when the call names no content type. */
  codec: Codec;
}

export class Calls {
  private readonly timeout: number;
  private readonly codec: Codec;
  private readonly codecs = new CodecCache();

  constructor(
    /** The pool of connections for a node (per its transport). */
    private readonly poolFor: (node: NodeRecord) => ConnectionPool | Promise<ConnectionPool>,
    options: CallsOptions,
  ) {
    this.timeout = options.timeout;
    this.codec = options.codec;
  }

  /** One attempt at one node, by method kind. */
  attempt(node: NodeRecord, req: ClientRequest): Promise<unknown> {
    switch (req.method.kind) {
      case "unary":
        return this.unary(node, req);
      case "server_streaming":
        return this.openStream(node, req, false);
      case "client_streaming":
        return this.clientStreaming(node, req);
      case "bidi_streaming":
        return this.openStream(node, req, true);
      default:
        return Promise.reject(MicroError.badRequest("micro.client", `unknown method kind "${String(req.method.kind)}" for ${req.endpoint}`));
    }
  }

  private codecOf(contentType: string | undefined): Codec {
    return contentType === undefined ? this.codec : this.codecs.get(contentType);
  }

  /** A pooled connection to the node over its transport, dialled with TLS when its metadata says `secure: "true"`. */
  private async connection(node: NodeRecord): Promise<Connection> {
    let pool = this.poolFor(node);
    if (!("get" in pool)) pool = await pool;
    return pool.get(node.address, secureFromMetadata(node.metadata));
  }

  private async unary(node: NodeRecord, req: ClientRequest): Promise<unknown> {
    const o = req.options;
    const codec = this.codecOf(o.contentType);
    const payload = codec.marshal(req.method.input, req.body);
    let pool = this.poolFor(node);
    if (!("get" in pool)) pool = await pool;
    let conn = pool.get(node.address, secureFromMetadata(node.metadata));
    if (!("openStream" in conn)) conn = await conn;
    const timeout = o.timeout ?? this.timeout;
    const path = pathFor(node, req);
    const stream = conn.openStream({
      service: req.service,
      endpoint: req.endpoint,
      contentType: codec.contentType,
      metadata: o.metadata ?? EMPTY,
      deadline: Date.now() + timeout,
      kind: "unary",
      ...(path !== undefined ? { path } : {}),
    });
    const guard = o.signal !== undefined ? new CallGuard(stream, req.endpoint, o.signal) : undefined;
    stream.send(payload).catch(reportedByStream);
    stream.closeSend();
    return this.singleResponse(stream, codec, req, guard);
  }

  /**
   * The one response of a unary or client-streaming call: the first message is the result (any further ones
   * are drained), then the trailer's metadata goes to `onResponseMetadata`. With `pump` (client streaming),
   * a failure is final — the request messages were consumed and cannot be sent again — and a failing request
   * source is the error reported.
   */
  private async singleResponse(stream: ClientStream, codec: Codec, req: ClientRequest, guard: CallGuard | undefined, pump?: PumpState): Promise<unknown> {
    let result: unknown;
    let got = false;
    try {
      for await (const message of stream) {
        if (!got) {
          result = codec.unmarshal(req.method.output, message, RESPONSE_READ);
          got = true;
        }
      }
    } catch (error) {
      const mapped = guard !== undefined ? guard.map(error) : error;
      throw pump === undefined ? mapped : markFinal(pump.error !== undefined ? pump.error : mapped);
    } finally {
      guard?.done();
      if (pump !== undefined) pump.stopped = true;
    }
    if (!got) throw markFinal(new MicroError("micro.client", 502, `${req.endpoint}: the server ended the call without a response`));
    if (req.options.onResponseMetadata) req.options.onResponseMetadata((await stream.trailer).metadata);
    return result;
  }

  private async open(node: NodeRecord, req: ClientRequest, codec: Codec): Promise<ClientStream> {
    const o = req.options;
    const conn = await this.connection(node);
    const path = pathFor(node, req);
    return conn.openStream({
      service: req.service,
      endpoint: req.endpoint,
      contentType: codec.contentType,
      metadata: o.metadata ?? EMPTY,
      deadline: o.timeout !== undefined ? Date.now() + o.timeout : undefined,
      kind: req.method.kind,
      ...(path !== undefined ? { path } : {}),
    });
  }

  /** Server and bidi streams: resolves once the stream is open; responses come through the iterable. */
  private async openStream(node: NodeRecord, req: ClientRequest, bidi: boolean): Promise<AsyncIterable<unknown>> {
    const codec = this.codecOf(req.options.contentType);
    const payload = bidi ? undefined : codec.marshal(req.method.input, req.body);
    const stream = await this.open(node, req, codec);
    const guard = req.options.signal !== undefined ? new CallGuard(stream, req.endpoint, req.options.signal) : undefined;
    const pump: PumpState = { stopped: false };
    if (bidi) void this.pump(stream, codec, req.method.input, req.body as AsyncIterable<unknown>, pump);
    else {
      stream.send(payload!).catch(reportedByStream);
      stream.closeSend();
    }
    return this.responses(stream, codec, req, guard, pump);
  }

  private async *responses(stream: ClientStream, codec: Codec, req: ClientRequest, guard: CallGuard | undefined, pump: PumpState): AsyncGenerator<unknown> {
    let finished = false;
    try {
      for await (const message of stream) yield codec.unmarshal(req.method.output, message, RESPONSE_READ);
      finished = true;
    } catch (error) {
      finished = true;
      throw pump.error !== undefined ? pump.error : guard !== undefined ? guard.map(error) : error;
    } finally {
      guard?.done();
      pump.stopped = true;
      if (!finished) stream.cancel("the client stopped reading");
      else if (req.options.onResponseMetadata) req.options.onResponseMetadata((await stream.trailer).metadata);
    }
  }

  private async clientStreaming(node: NodeRecord, req: ClientRequest): Promise<unknown> {
    const o = req.options;
    const codec = this.codecOf(o.contentType);
    const stream = await this.open(node, req, codec);
    const guard = o.signal !== undefined ? new CallGuard(stream, req.endpoint, o.signal) : undefined;
    const pump: PumpState = { stopped: false };
    void this.pump(stream, codec, req.method.input, req.body as AsyncIterable<unknown>, pump);
    return this.singleResponse(stream, codec, req, guard, pump);
  }

  /** Send the caller's request messages; a failing source cancels the call with its error. */
  private async pump(stream: ClientStream, codec: Codec, input: MessageCodec<unknown>, requests: AsyncIterable<unknown>, state: PumpState): Promise<void> {
    try {
      for await (const r of requests) {
        if (state.stopped) return;
        await stream.send(codec.marshal(input, r));
      }
      if (!state.stopped) stream.closeSend();
    } catch (error) {
      if (state.stopped) return;
      state.error = error;
      stream.cancel(`the request stream failed: ${errorText(error)}`);
    }
  }
}

/** An AsyncIterable that opens its source on first iteration (a stream call returns synchronously). */
export function lazyIterable<T>(open: () => Promise<AsyncIterable<T>>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let inner: AsyncIterator<T> | undefined;
      let opening: Promise<AsyncIterator<T>> | undefined;
      const get = (): Promise<AsyncIterator<T>> => (opening ??= open().then((it) => (inner = it[Symbol.asyncIterator]())));
      return {
        next: async () => (await get()).next(),
        return: async (value?: unknown) => {
          if (inner?.return) return inner.return(value);
          if (opening && !inner) {
            const it = await opening.catch(() => undefined);
            if (it?.return) return it.return(value);
          }
          return { done: true, value: value as T };
        },
      };
    },
  };
}
