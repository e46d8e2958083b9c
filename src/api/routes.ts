/**
 * The gateway's view of the registry: every service's endpoints (their kind and request fields) and the
 * `google.api.http` routes they declare. Kept fresh from the registry's watch, and by a periodic full
 * refresh in case a watch event was missed.
 */
import type { HttpRule, MethodKind, ValueRecord } from "../runtime/definition/index.js";
import type { EndpointRecord, Registry, ServiceRecord } from "../runtime/registry/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { logger } from "../runtime/logger/index.js";
import { endpointKind } from "../runtime/target/index.js";
import { matchTemplate, parseTemplate, type PathTemplate } from "./http-rule.js";

const log = logger("api.routes");

/** One HTTP route declared by an endpoint's http rule. */
export interface Route {
  readonly service: string;
  readonly endpoint: string;
  readonly kind: MethodKind;
  readonly rule: HttpRule;
  readonly template: PathTemplate;
  readonly requestFields?: readonly ValueRecord[];
}

/** What the gateway knows about one endpoint. */
export interface EndpointInfo {
  readonly kind: MethodKind;
  readonly requestFields?: readonly ValueRecord[];
}

/** The HttpRule list from an endpoint's `http` metadata; invalid JSON is logged and ignored. */
export function endpointRules(ep: EndpointRecord): HttpRule[] {
  const text = ep.metadata?.http;
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    const list = Array.isArray(parsed) ? parsed : [parsed];
    return list.filter((r): r is HttpRule => typeof r === "object" && r !== null && typeof r.method === "string" && typeof r.path === "string");
  } catch {
    log.warn({ endpoint: ep.name }, "ignoring endpoint http metadata that is not JSON");
    return [];
  }
}

export interface RouteTableOptions {
  /** Full refresh period in milliseconds (default 30 000). */
  refreshInterval?: number;
}

export class RouteTable {
  private routes: Route[] = [];
  private readonly services = new Map<string, ServiceRecord[]>();
  private watchAbort?: AbortController;
  private timer?: NodeJS.Timeout;
  private pending = new Set<string>();
  private changeWaiters: (() => void)[] = [];
  /** Services recently looked up and not found: not asked again for a second (requests to unknown names are cheap). */
  private readonly missing = new Map<string, number>();
  private pendingTimer?: NodeJS.Timeout;
  private generation = 0;

  constructor(
    private readonly registry: Registry,
    private readonly options: RouteTableOptions = {},
  ) {}

  /** Load every service, then follow the registry. */
  async start(): Promise<void> {
    await this.refreshAll();
    this.watchAbort = new AbortController();
    void this.follow(this.watchAbort.signal);
    this.timer = setInterval(() => void this.refreshAll(), this.options.refreshInterval ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    this.watchAbort?.abort();
    if (this.timer) clearInterval(this.timer);
    if (this.pendingTimer) clearTimeout(this.pendingTimer);
  }

  /** The first route (most literal segments first) whose method and path template match. */
  match(method: string, segments: readonly string[]): { route: Route; vars: Record<string, string> } | undefined {
    const m = method === "HEAD" ? "GET" : method;
    for (const route of this.routes) {
      if (route.rule.method.toUpperCase() !== m) continue;
      const vars = matchTemplate(route.template, segments);
      if (vars) return { route, vars };
    }
    return undefined;
  }

  /** The methods of the routes whose path template matches (for a 405's `Allow`), in route order, without repeats. */
  methodsFor(segments: readonly string[]): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) if (matchTemplate(route.template, segments)) methods.add(route.rule.method.toUpperCase());
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods];
  }

  /**
   * Kind and request fields of an endpoint, looked up in the registry when not cached.
   * @throws MicroError 503 when the registry lookup fails: routing on without the endpoint's kind and fields
   * would call a stream as unary, with untyped values.
   */
  async endpoint(service: string, endpoint: string): Promise<EndpointInfo | undefined> {
    let records = this.services.get(service);
    if (!records) {
      const missedAt = this.missing.get(service);
      if (missedAt !== undefined && Date.now() - missedAt < 1000) return undefined;
      try {
        records = await this.registry.getService(service);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new MicroError("micro.api", 503, `registry lookup of service ${JSON.stringify(service)} failed: ${why}`, undefined, { cause: error });
      }
      if (records.length > 0) {
        this.services.set(service, records);
        this.missing.delete(service);
      } else {
        if (this.missing.size >= 10_000) this.missing.clear();
        this.missing.set(service, Date.now());
      }
    }
    for (const rec of records) {
      const ep = rec.endpoints.find((e) => e.name === endpoint);
      if (ep) return { kind: endpointKind(ep), requestFields: ep.request?.values };
    }
    return undefined;
  }

  /** Resolves after the next rebuild of the routes (from the watch or a refresh). */
  nextUpdate(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  /** Bumped whenever the routes are rebuilt (after any change the registry reported), so caches know to drop. */
  get version(): number {
    return this.generation;
  }

  /** The service records the gateway knows (every version of each), by service name. */
  records(): readonly ServiceRecord[] {
    return [...this.services.keys()].sort().flatMap((name) => this.services.get(name) ?? []);
  }

  /** Every route, for diagnostics and tests. */
  list(): readonly Route[] {
    return this.routes;
  }

  async refreshAll(): Promise<void> {
    try {
      const listed = await this.registry.listServices();
      const names = [...new Set(listed.map((s) => s.name))];
      const fresh = new Map<string, ServiceRecord[]>();
      await Promise.all(names.map(async (n) => fresh.set(n, await this.registry.getService(n))));
      this.services.clear();
      for (const [n, recs] of fresh) if (recs.length > 0) this.services.set(n, recs);
      this.missing.clear();
      this.rebuild();
    } catch (error) {
      log.warn({ err: error }, "route refresh failed; keeping the previous routes");
    }
  }

  private async refreshService(name: string): Promise<void> {
    try {
      const recs = await this.registry.getService(name);
      if (recs.length > 0) {
        this.services.set(name, recs);
        this.missing.delete(name);
      } else this.services.delete(name);
    } catch (error) {
      log.warn({ err: error, service: name }, "route refresh failed");
    }
  }

  private async follow(signal: AbortSignal): Promise<void> {
    try {
      const watcher = this.registry.watch({ signal });
      signal.addEventListener("abort", () => watcher.stop(), { once: true });
      for await (const event of watcher) {
        this.pending.add(event.service.name);
        // Coalesce bursts (a service registering many nodes) into one refresh.
        this.pendingTimer ??= setTimeout(() => {
          this.pendingTimer = undefined;
          const names = [...this.pending];
          this.pending.clear();
          void Promise.all(names.map((n) => this.refreshService(n))).then(() => this.rebuild());
        }, 20);
      }
    } catch (error) {
      if (!signal.aborted) log.warn({ err: error }, "registry watch ended; relying on periodic refresh");
    }
  }

  private rebuild(): void {
    const routes: Route[] = [];
    const seen = new Set<string>();
    for (const [service, recs] of this.services) {
      for (const rec of recs) {
        for (const ep of rec.endpoints) {
          for (const rule of endpointRules(ep)) {
            const key = `${rule.method} ${rule.path} ${service} ${ep.name}`;
            if (seen.has(key)) continue;
            seen.add(key);
            try {
              routes.push({ service, endpoint: ep.name, kind: endpointKind(ep), rule, template: parseTemplate(rule.path), requestFields: ep.request?.values });
            } catch (error) {
              log.warn({ service, endpoint: ep.name, path: rule.path }, (error as Error).message);
            }
          }
        }
      }
    }
    // Routes with a verb first (they are the more specific), then more literal segments, then fewer variables.
    routes.sort(
      (a, b) =>
        Number(b.template.verb !== undefined) - Number(a.template.verb !== undefined) ||
        b.template.literals - a.template.literals ||
        a.template.variables.length - b.template.variables.length,
    );
    this.routes = routes;
    this.generation++;
    log.debug({ routes: routes.length, services: this.services.size }, "routes updated");
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }
}
