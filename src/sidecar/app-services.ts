/**
 * The app's services in the micro world: for each service the app declares (`--app_name` with
 * `--app_endpoints`, or `POST /registry`) the sidecar listens on the transport with a router whose handlers
 * forward each call to the app over HTTP (app-http.ts), and registers a node at that listener's address with
 * the declared endpoints. Registrations are renewed on the register interval while the app is healthy; while it
 * is not (health-check.ts) they are withdrawn, and they come back when it recovers.
 */
import { randomUUID } from "node:crypto";
import type { Broker } from "../runtime/broker/index.js";
import type { MessageCodec } from "../runtime/codec/index.js";
import type { MethodDefinition, ServiceDefinition, ValueRecord } from "../runtime/definition/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { isJsonObject } from "../runtime/errors/json-object.js";
import { logger } from "../runtime/logger/index.js";
import type { Metadata } from "../runtime/metadata/index.js";
import { isStringMap } from "../runtime/registry/records.js";
import { startHeartbeat, type Heartbeat } from "../runtime/registry/heartbeat.js";
import type { EndpointRecord, Registry, ServiceRecord } from "../runtime/registry/index.js";
import { PROTOCOL } from "../runtime/server/registration.js";
import { Router } from "../runtime/server/router.js";
import type { Context } from "../runtime/server/server.js";
import { advertiseAddress } from "../runtime/transport/address.js";
import type { Listener, Transport } from "../runtime/transport/index.js";
import { appError, appPath, appReply, metadataHeaders, postToApp, SIDECAR_ID } from "./app-http.js";

const log = logger("sidecar");

/** An endpoint the app declares: its name (`Greeter.Hello`) and, optionally, its request and response fields. */
export interface EndpointDeclaration {
  name: string;
  request?: ValueRecord;
  response?: ValueRecord;
  metadata?: Metadata;
}

/** A service the app declares (the body of `POST /registry`). */
export interface ServiceDeclaration {
  name: string;
  /** Default `latest`. */
  version?: string;
  metadata?: Metadata;
  endpoints: EndpointDeclaration[];
}

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ENDPOINT_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/** `Greeter.Hello` or `{name: "Greeter.Hello", request?, response?, metadata?}`. @throws MicroError 400. */
function endpointDeclaration(value: unknown, where: string): EndpointDeclaration {
  const ep = typeof value === "string" ? { name: value } : value;
  if (!isJsonObject(ep) || typeof ep.name !== "string" || !ENDPOINT_NAME.test(ep.name)) {
    throw MicroError.badRequest(SIDECAR_ID, `${where} must be an endpoint name like "Greeter.Hello" or {"name": "Greeter.Hello"}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  if (ep.metadata !== undefined && !isStringMap(ep.metadata)) throw MicroError.badRequest(SIDECAR_ID, `${where}.metadata must map strings to strings`);
  for (const side of ["request", "response"] as const) {
    const v = ep[side];
    if (v !== undefined && (!isJsonObject(v) || typeof v.name !== "string" || typeof v.type !== "string")) {
      throw MicroError.badRequest(SIDECAR_ID, `${where}.${side} must be {"name": "...", "type": "...", "values": [...]} (a registry value record)`);
    }
  }
  return ep as unknown as EndpointDeclaration;
}

/** A declaration from JSON (the body of `POST /registry`). @throws MicroError 400 naming what is wrong. */
export function parseDeclaration(value: unknown): ServiceDeclaration {
  if (!isJsonObject(value)) throw MicroError.badRequest(SIDECAR_ID, 'the body must be a JSON object: {"name": "pyapp", "endpoints": ["Greeter.Hello"]}');
  if (typeof value.name !== "string" || !SERVICE_NAME.test(value.name)) throw MicroError.badRequest(SIDECAR_ID, '"name" must be a service name, e.g. "pyapp"');
  if (value.version !== undefined && (typeof value.version !== "string" || value.version === "")) throw MicroError.badRequest(SIDECAR_ID, '"version" must be a non-empty string');
  if (value.metadata !== undefined && !isStringMap(value.metadata)) throw MicroError.badRequest(SIDECAR_ID, '"metadata" must map strings to strings');
  if (value.nodes !== undefined) throw MicroError.badRequest(SIDECAR_ID, '"nodes" cannot be given: the sidecar registers its own node and forwards calls to the app');
  const endpoints = value.endpoints ?? [];
  if (!Array.isArray(endpoints)) throw MicroError.badRequest(SIDECAR_ID, '"endpoints" must be an array of endpoint names, e.g. ["Greeter.Hello"]');
  return {
    name: value.name,
    version: value.version as string | undefined,
    metadata: value.metadata as Metadata | undefined,
    endpoints: endpoints.map((e, i) => endpointDeclaration(e, `endpoints[${i}]`)),
  };
}

/** A message codec for JSON only: the sidecar has no message types, the app speaks JSON. */
function jsonOnly(typeName: string): MessageCodec<unknown> {
  const refuse = (): never => {
    throw new MicroError(SIDECAR_ID, 415, "this service is an app behind micro sidecar, which carries JSON only: call it with content type application/json", "Unsupported Media Type");
  };
  return { typeName, encode: refuse, decode: refuse, fromJSON: (json) => json, toJSON: (message) => message };
}

export interface AppServicesOptions {
  registry: Registry;
  transport: Transport;
  broker: Broker;
  /** The app's base URL, e.g. `http://127.0.0.1:5000`. */
  appUrl: string;
  /** Milliseconds the app gets to answer one call. */
  appTimeout: number;
  /** Transport listen address for the app's services (default `127.0.0.1:0`). */
  listenAddress?: string;
  advertise?: string;
  /** Registration TTL in seconds. */
  ttl: number;
  /** Seconds between renewals. */
  interval: number;
}

interface Served {
  declaration: ServiceDeclaration;
  router: Router;
  listener: Listener;
  record: ServiceRecord;
  registered: boolean;
}

/** The services the sidecar serves for its app. */
export class AppServices {
  private readonly served = new Map<string, Served>();
  private healthy = true;
  private heartbeat: Heartbeat | undefined;
  private readonly nodeSuffix = randomUUID();

  constructor(private readonly options: AppServicesOptions) {}

  /** Whether the app counts as healthy (what `Debug.Health` on the app's node answers). */
  get isHealthy(): boolean {
    return this.healthy;
  }

  /** The records of the services served, as registered (or as they would be while the app is unhealthy). */
  records(): ServiceRecord[] {
    return [...this.served.values()].map((s) => s.record);
  }

  /** Serve a declared service (again: its endpoints are replaced) and register it unless the app is unhealthy. */
  async serve(declaration: ServiceDeclaration): Promise<ServiceRecord> {
    let s = this.served.get(declaration.name);
    const router = this.router(declaration);
    if (s) {
      if (s.registered && s.record.version !== (declaration.version ?? "latest")) await this.withdraw(s);
      s.declaration = declaration;
      s.router = router;
    } else {
      const fresh: Served = { declaration, router, listener: undefined as unknown as Listener, record: undefined as unknown as ServiceRecord, registered: false };
      // The handler reads the current router, so a new declaration takes effect without a new listener.
      fresh.listener = await this.options.transport.listen(this.options.listenAddress ?? "127.0.0.1:0", (stream) => fresh.router.serve(stream));
      this.served.set(declaration.name, fresh);
      s = fresh;
    }
    s.record = this.recordOf(s);
    if (this.healthy) await this.register(s);
    this.heartbeat ??= startHeartbeat(this.options.interval * 1000, () => this.renew());
    return s.record;
  }

  /** Stop serving a service and deregister it. @returns false when it was not served. */
  async remove(name: string): Promise<boolean> {
    const s = this.served.get(name);
    if (!s) return false;
    this.served.delete(name);
    await this.withdraw(s);
    await s.listener.close(1000);
    return true;
  }

  /** The app's health changed: withdraw every registration, or register them again. */
  async setHealthy(healthy: boolean): Promise<void> {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    for (const s of this.served.values()) await (healthy ? this.register(s) : this.withdraw(s));
  }

  /** Deregister everything and stop listening. */
  async stop(): Promise<void> {
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    for (const name of [...this.served.keys()]) await this.remove(name);
  }

  private renew(): void {
    if (!this.healthy) return;
    for (const s of this.served.values()) void this.register(s);
  }

  private async register(s: Served): Promise<void> {
    try {
      await this.options.registry.register(s.record, { ttl: this.options.ttl });
      if (!s.registered) log.info({ service: s.record.name, address: s.record.nodes[0]!.address }, "app service registered");
      s.registered = true;
    } catch (error) {
      log.warn({ err: error, service: s.record.name }, "registering the app's service failed; retrying at the next interval");
    }
  }

  private async withdraw(s: Served): Promise<void> {
    if (!s.registered) return;
    s.registered = false;
    try {
      await this.options.registry.deregister(s.record);
      log.info({ service: s.record.name }, "app service deregistered");
    } catch (error) {
      log.warn({ err: error, service: s.record.name }, "deregistering the app's service failed; its node expires with its TTL");
    }
  }

  private recordOf(s: Served): ServiceRecord {
    const d = s.declaration;
    const endpoints: EndpointRecord[] = d.endpoints.map((e) => ({
      name: e.name,
      request: e.request ?? { name: "Request", type: "json" },
      response: e.response ?? { name: "Response", type: "json" },
      metadata: { ...e.metadata, stream: "unary" },
    }));
    const { registry, transport, broker } = this.options;
    return {
      name: d.name,
      version: d.version ?? "latest",
      metadata: { ...d.metadata },
      endpoints,
      nodes: [
        {
          id: `${d.name}-${this.nodeSuffix}`,
          address: advertiseAddress(s.listener.address, this.options.advertise),
          metadata: { ...d.metadata, transport: transport.name, broker: broker.name, registry: registry.name, protocol: PROTOCOL, server: "micro-sidecar" },
        },
      ],
    };
  }

  /** A router whose every declared endpoint forwards to the app. */
  private router(d: ServiceDeclaration): Router {
    const router = new Router(d.name, undefined, () => (this.healthy ? "ok" : "unhealthy"));
    const byService = new Map<string, Record<string, MethodDefinition>>();
    for (const e of d.endpoints) {
      const dot = e.name.lastIndexOf(".");
      const methods = byService.get(e.name.slice(0, dot)) ?? {};
      methods[e.name.slice(dot + 1)] = { name: e.name.slice(dot + 1), kind: "unary", input: jsonOnly(e.request?.type ?? "json"), output: jsonOnly(e.response?.type ?? "json") };
      byService.set(e.name.slice(0, dot), methods);
    }
    for (const [name, methods] of byService) {
      const definition: ServiceDefinition = { name, fullName: name, methods };
      const implementation = Object.fromEntries(Object.keys(methods).map((m) => [m, (body: unknown, ctx: Context) => this.forward(d.name, `${name}.${m}`, body, ctx)]));
      router.handle(definition, implementation, {});
    }
    return router;
  }

  /** One call, forwarded to the app as `POST <app>/<Service>/<Method>` with the JSON request. */
  private async forward(service: string, endpoint: string, body: unknown, ctx: Context): Promise<unknown> {
    const what = endpoint;
    const url = `${this.options.appUrl}${appPath(endpoint)}`;
    const headers = { ...metadataHeaders(ctx.metadata), "micro-service": service, "micro-endpoint": endpoint };
    const timeout = ctx.deadline !== undefined ? Math.max(1, Math.min(this.options.appTimeout, ctx.deadline - Date.now())) : this.options.appTimeout;
    const res = await postToApp({ id: service, what, url, body: JSON.stringify(body ?? {}), contentType: "application/json", headers, timeout, signal: ctx.signal });
    if (res.status < 200 || res.status > 299) throw appError(service, what, res.status, res.text);
    return appReply(service, what, res.text);
  }
}
