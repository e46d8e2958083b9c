/**
 * In-test fakes of the runtime's Client and Registry, so the gateway can be tested before (and apart
 * from) the real transport. The fake client calls plain functions and honours timeouts and signals.
 */
import type { CallOptions, CallTarget, Client, Metadata, PublishOptions } from "../../src/runtime/client/index.js";
import { MicroError } from "../../src/runtime/errors/index.js";
import type { Registry, RegistryEvent, ServiceRecord, Watcher } from "../../src/runtime/registry/index.js";

export interface FakeCall {
  service: string;
  endpoint: string;
  request: unknown;
  metadata: Metadata;
  contentType?: string;
  signal?: AbortSignal;
}

export type FakeHandler = (call: FakeCall) => unknown;

export class FakeClient implements Client {
  readonly handlers = new Map<string, FakeHandler>();
  readonly published: { topic: string; message: unknown; metadata?: Metadata }[] = [];
  readonly calls: FakeCall[] = [];

  on(service: string, endpoint: string, handler: FakeHandler): this {
    this.handlers.set(`${service} ${endpoint}`, handler);
    return this;
  }

  private async invoke(target: CallTarget, request: unknown, options: CallOptions = {}): Promise<unknown> {
    const h = this.handlers.get(`${target.service} ${target.endpoint}`);
    if (!h) throw MicroError.notFound("go.micro.client", `service ${target.service}: not found`);
    const call: FakeCall = { service: target.service, endpoint: target.endpoint, request, metadata: options.metadata ?? {}, contentType: options.contentType, signal: options.signal };
    this.calls.push(call);
    let work = Promise.resolve().then(() => h(call));
    const signal = options.signal;
    if (signal) {
      // As the real client: an aborted call rejects, whatever the handler does.
      const aborted = new Promise<never>((_, reject) => {
        const fail = (): void => reject(new MicroError("micro.client", 499, "call cancelled"));
        if (signal.aborted) fail();
        else signal.addEventListener("abort", fail, { once: true });
      });
      aborted.catch(() => undefined);
      work = Promise.race([work, aborted]);
    }
    if (!options.timeout) return work;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(MicroError.timeout("go.micro.client", "request timeout")), options.timeout);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  call<I, O>(target: CallTarget<I, O>, request: I, options?: CallOptions): Promise<O> {
    return this.invoke(target, request, options) as Promise<O>;
  }
  async *serverStream<I, O>(target: CallTarget<I, O>, request: I, options?: CallOptions): AsyncIterable<O> {
    const out = (await this.invoke(target, request, options)) as AsyncIterable<O>;
    yield* out;
  }
  clientStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options?: CallOptions): Promise<O> {
    return this.invoke(target, requests, options) as Promise<O>;
  }
  async *bidiStream<I, O>(target: CallTarget<I, O>, requests: AsyncIterable<I>, options?: CallOptions): AsyncIterable<O> {
    const out = (await this.invoke(target, requests, options)) as AsyncIterable<O>;
    yield* out;
  }
  async publish<T>(topic: string, message: T, options?: PublishOptions<T>): Promise<void> {
    this.published.push({ topic, message, metadata: options?.metadata });
  }
}

/** A registry held in memory, with a watch that delivers every change. */
export class FakeRegistry implements Registry {
  readonly name = "fake";
  private readonly services = new Map<string, ServiceRecord>();
  private readonly listeners = new Set<(e: RegistryEvent) => void>();

  async register(service: ServiceRecord): Promise<void> {
    this.services.set(`${service.name}@${service.version}`, service);
    for (const l of this.listeners) l({ action: "create", service });
  }
  async deregister(service: ServiceRecord): Promise<void> {
    this.services.delete(`${service.name}@${service.version}`);
    for (const l of this.listeners) l({ action: "delete", service });
  }
  async getService(name: string): Promise<ServiceRecord[]> {
    return [...this.services.values()].filter((s) => s.name === name);
  }
  async listServices(): Promise<ServiceRecord[]> {
    return [...this.services.values()];
  }
  watch(): Watcher {
    const queue: RegistryEvent[] = [];
    let wake: (() => void) | undefined;
    let stopped = false;
    const listener = (e: RegistryEvent): void => {
      queue.push(e);
      wake?.();
    };
    this.listeners.add(listener);
    const listeners = this.listeners;
    return {
      stop() {
        stopped = true;
        listeners.delete(listener);
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        while (!stopped) {
          if (queue.length > 0) yield queue.shift()!;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    };
  }
  async close(): Promise<void> {}
}
