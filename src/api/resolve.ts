/**
 * Go Micro's path resolution for the gateway: which service and endpoint an HTTP path names when no
 * `google.api.http` route matched.
 *
 * - `/greeter/hello`     → service `greeter`, endpoint `Greeter.Hello`
 * - `/greeter/say/hello` → service `greeter`, endpoint `Say.Hello`
 * - `/v1/greeter/hello`  → service `v1.greeter`, endpoint `Greeter.Hello`
 * - `/a/b/c/d`           → service `a.b`, endpoint `C.D`
 * - `/greeter`           → service `greeter`, endpoint `Greeter.Call`
 *
 * With a namespace, the service is `<namespace>.<service>`.
 */
import type { HttpRule, MethodKind, ValueRecord } from "../runtime/definition/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { SEGMENT, VERSION, toCamel } from "../http/rpc-route.js";

export interface Resolved {
  readonly service: string;
  readonly endpoint: string;
}

/** The service method a request goes to (see `resolveTarget` in target.ts). */
export interface Target extends Resolved {
  readonly kind: MethodKind;
  /** Set when a `google.api.http` route matched. */
  readonly rule?: HttpRule;
  readonly vars?: Record<string, string>;
  readonly fields?: readonly ValueRecord[];
}

/**
 * Split a raw request path (as received, before percent-decoding) into checked segments.
 * @throws MicroError 400 on traversal (`..`, `.`, encoded or not), encoded slashes, control characters or
 * empty segments — the gateway never normalises such paths into something else.
 */
export function pathSegments(rawPath: string): string[] {
  const path = rawPath.split("?", 1)[0]!;
  if (!path.startsWith("/")) throw MicroError.badRequest("micro.api", `path must start with "/": ${JSON.stringify(path)}`);
  const raw = path.slice(1).replace(/\/$/, "");
  if (raw === "") return [];
  const out: string[] = [];
  for (const seg of raw.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      throw MicroError.badRequest("micro.api", `malformed percent-encoding in path segment ${JSON.stringify(seg)}`);
    }
    if (decoded === "" || decoded === "." || decoded === ".." || decoded.includes("/") || decoded.includes("\\") || /[\u0000-\u001f\u007f]/.test(decoded)) {
      throw MicroError.badRequest("micro.api", `invalid path segment ${JSON.stringify(seg)}: no empty, "." or ".." segments, encoded slashes or control characters`);
    }
    out.push(decoded);
  }
  return out;
}

/** Resolve already-checked path segments to a service and endpoint (see the module comment). */
export function resolveSegments(parts: readonly string[], namespace = ""): Resolved {
  if (parts.length === 0) throw MicroError.notFound("micro.api", "no service in the path: use /<service>/<method>");
  for (const p of parts) {
    if (!SEGMENT.test(p)) throw MicroError.badRequest("micro.api", `invalid path segment ${JSON.stringify(p)}: letters, digits, "-" and "_" only`);
  }
  let name: string;
  let endpoint: string;
  if (parts.length === 1) {
    name = parts[0]!;
    endpoint = `${toCamel(parts[0]!)}.Call`;
  } else if (parts.length === 2) {
    name = parts[0]!;
    endpoint = parts.map(toCamel).join(".");
  } else if (parts.length === 3 && VERSION.test(parts[0]!)) {
    name = `${parts[0]}.${parts[1]}`;
    endpoint = parts.slice(1).map(toCamel).join(".");
  } else {
    name = parts.slice(0, -2).join(".");
    endpoint = parts.slice(-2).map(toCamel).join(".");
  }
  return { service: namespace ? `${namespace}.${name}` : name, endpoint };
}

/** Resolve a raw request path. */
export function resolvePath(rawPath: string, namespace = ""): Resolved {
  return resolveSegments(pathSegments(rawPath), namespace);
}
