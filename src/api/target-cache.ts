/**
 * Resolved targets by method and raw path. Resolving a path (segment checks, http-rule matching, Go Micro's
 * name mapping, the endpoint's kind and fields) is the same work for every request to the same URL, so the
 * result is kept until the route table changes. Only successful resolutions to a known endpoint are kept;
 * errors and unknown names are resolved afresh each time.
 */
import type { Target } from "./resolve.js";
import type { RouteTable } from "./routes.js";

export class TargetCache {
  private readonly entries = new Map<string, Target>();
  private version: number;

  constructor(
    private readonly routes: RouteTable,
    /** Entry limit; the cache starts over when it is reached (paths are chosen by clients). */
    private readonly max = 10_000,
  ) {
    this.version = routes.version;
  }

  /** The cached target for a method and raw path, if the route table has not changed since it was stored. */
  get(method: string, path: string): Target | undefined {
    this.sync();
    return this.entries.get(`${method} ${path}`);
  }

  /** Store a target resolved while the route table was at `version` (dropped if it changed meanwhile). */
  set(method: string, path: string, target: Target, version: number): void {
    this.sync();
    if (version !== this.version) return;
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(`${method} ${path}`, target);
  }

  private sync(): void {
    if (this.routes.version === this.version) return;
    this.entries.clear();
    this.version = this.routes.version;
  }
}
