/**
 * The `--proxy_address` backend: the registry and the client of a `micro` command as requests to a sidecar's
 * HTTP API (`micro sidecar`), for a machine that reaches the cluster only through one sidecar.
 *
 * - `listServices` / `getService` → `GET /registry`, `GET /registry/<service>`;
 * - `call` → `POST /rpc` `{service, endpoint, request, metadata, timeout, address}`;
 * - streams → a WebSocket at `/stream?service=&endpoint=&kind=` (the gateway's frame protocol; metadata as headers);
 * - `publish` → `POST /broker/<topic>` (metadata as headers).
 *
 * Replies are plain JSON values whatever the target's codecs (the commands send and print JSON).
 */
import WebSocket, { type RawData } from "ws";
import type { CallOptions, CallTarget, Client, PublishOptions } from "../../../runtime/client/index.js";
import type { MethodKind } from "../../../runtime/definition/index.js";
import { fromError, MicroError } from "../../../runtime/errors/index.js";
import type { Registry, ServiceRecord } from "../../../runtime/registry/index.js";

const ID = "micro.cli";

/** The HTTP base URL of a proxy address (`host:port` or `http://host:port`). */
export function proxyUrl(address: string): string {
  return (/^https?:\/\//.test(address) ? address : `http://${address}`).replace(/\/$/, "");
}

function unreachable(base: string, error: unknown): MicroError {
  const cause = (error as { cause?: { code?: string } }).cause;
  return new MicroError(ID, 503, `cannot reach the sidecar at ${base} (--proxy_address / MICRO_PROXY_ADDRESS): ${cause?.code ?? (error as Error).message}; is \`micro sidecar\` running there?`);
}

/** One request to the sidecar; a non-2xx answer is thrown as the MicroError it carries. */
async function request(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw unreachable(base, error);
  }
  const text = await res.text();
  let value: unknown;
  try {
    value = text === "" ? null : JSON.parse(text);
  } catch {
    throw new MicroError(ID, 502, `the sidecar at ${base} answered ${method} ${path} with HTTP ${res.status} and a body that is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (!res.ok) throw fromError(value ?? { code: res.status, detail: `HTTP ${res.status}` }, ID);
  return value;
}

/** The registry as the sidecar reports it. */
export function proxyRegistry(address: string): Pick<Registry, "listServices" | "getService"> {
  const base = proxyUrl(address);
  return {
    listServices: async () => (await request(base, "GET", "/registry")) as ServiceRecord[],
    async getService(name) {
      try {
        return (await request(base, "GET", `/registry/${encodeURIComponent(name)}`)) as ServiceRecord[];
      } catch (error) {
        if (error instanceof MicroError && error.code === 404) return [];
        throw error;
      }
    },
  };
}

const KIND_PARAM: Record<MethodKind, string> = { unary: "unary", server_streaming: "server", client_streaming: "client", bidi_streaming: "bidi" };

function frameText(data: RawData): string {
  return Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8");
}

/**
 * One stream over the sidecar's `/stream` WebSocket: `requests` are sent as frames (an empty frame ends
 * them), every frame received is a response; the call ends when the sidecar closes the socket.
 */
async function* streamCall(base: string, target: CallTarget, requests: AsyncIterable<unknown> | unknown[], options: CallOptions): AsyncGenerator<unknown> {
  const url = new URL(`${base.replace(/^http/, "ws")}/stream`);
  url.searchParams.set("service", target.service);
  url.searchParams.set("endpoint", target.endpoint);
  url.searchParams.set("kind", KIND_PARAM[target.method.kind]);
  const ws = new WebSocket(url, { headers: { ...options.metadata } });
  const frames: unknown[] = [];
  let wake: (() => void) | undefined;
  let ended: { error?: unknown } | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const finish = (error?: unknown): void => {
    ended ??= { error };
    notify();
  };
  ws.on("message", (data) => {
    const text = frameText(data);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      finish(new MicroError(ID, 502, `the sidecar sent a frame that is not JSON: ${JSON.stringify(text.slice(0, 80))}`));
      return;
    }
    const error = (value as { error?: unknown } | null)?.error;
    if (error !== undefined && value !== null && typeof value === "object" && Object.keys(value).length === 1) finish(fromError(error, ID));
    else frames.push(value), notify();
  });
  ws.on("unexpected-response", (_req, res) => {
    let text = "";
    res.setEncoding("utf8").on("data", (c: string) => (text += c));
    res.on("end", () => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = { code: res.statusCode ?? 502, detail: text || `HTTP ${res.statusCode}` };
      }
      finish(fromError(value, ID));
    });
  });
  ws.on("error", (error) => finish(unreachable(base, error)));
  ws.on("close", (code, reason) => finish(code === 1000 || code === 1005 ? undefined : new MicroError(ID, code >= 4000 && code < 5000 ? code - 4000 : 502, `the stream ended: ${reason.toString() || `close code ${code}`}`)));
  const abort = (): void => {
    finish(new MicroError(ID, 499, "the stream was cancelled"));
    ws.terminate();
  };
  const timer = options.timeout !== undefined ? setTimeout(() => (finish(MicroError.timeout(ID, `the stream did not end within ${options.timeout} ms`)), ws.terminate()), options.timeout) : undefined;
  options.signal?.addEventListener("abort", abort, { once: true });
  const opened = new Promise<void>((resolve) => ws.once("open", () => resolve()));
  void (async () => {
    await opened;
    for await (const r of requests) {
      if (ended) return;
      ws.send(JSON.stringify(r));
    }
    if (!ended) ws.send("");
  })().catch((error: unknown) => {
    finish(error);
    ws.terminate();
  });
  try {
    for (;;) {
      if (frames.length > 0) yield frames.shift();
      else if (ended) {
        if (ended.error !== undefined) throw ended.error;
        return;
      } else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", abort);
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
  }
}

async function single(messages: AsyncIterable<unknown>, what: string): Promise<unknown> {
  let reply: unknown;
  let seen = false;
  for await (const m of messages) {
    reply = m;
    seen = true;
  }
  if (!seen) throw new MicroError(ID, 502, `the sidecar ended ${what} without a reply`);
  return reply;
}

/** A client whose calls go through the sidecar at `address`. */
export function proxyClient(address: string): Client {
  const base = proxyUrl(address);
  return {
    async call<I, O>(target: CallTarget<I, O>, req: I, options: CallOptions = {}): Promise<O> {
      const addresses = options.address === undefined ? [] : [options.address].flat();
      const body = {
        service: target.service,
        endpoint: target.endpoint,
        request: req ?? {},
        ...(options.metadata && Object.keys(options.metadata).length > 0 ? { metadata: options.metadata } : {}),
        ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
        ...(addresses.length > 0 ? { address: addresses[0] } : {}),
      };
      return (await request(base, "POST", "/rpc", body, {}, options.signal)) as O;
    },
    serverStream<I, O>(target: CallTarget<I, O>, req: I, options: CallOptions = {}): AsyncIterable<O> {
      return streamCall(base, target, [req ?? {}], options) as AsyncIterable<O>;
    },
    async clientStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options: CallOptions = {}): Promise<O> {
      return (await single(streamCall(base, target, requests, options), `${target.endpoint}`)) as O;
    },
    bidiStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options: CallOptions = {}): AsyncIterable<O> {
      return streamCall(base, target, requests, options) as AsyncIterable<O>;
    },
    async publish<T>(topic: string, message: T, options: PublishOptions<T> = {}): Promise<void> {
      await request(base, "POST", `/broker/${encodeURIComponent(topic)}`, message ?? null, { ...options.metadata }, options.signal);
    },
  };
}
