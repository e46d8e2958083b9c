/**
 * Go Micro's rpc route naming, both ways: which service and endpoint a path's segments name (the gateway's
 * path resolution, src/api/resolve.ts) and the path that names a given endpoint (the OpenAPI documents of
 * protoc-gen-micro and the gateway). Imports nothing.
 */

/** A version segment (`v1`), which joins the next one in the service name. */
export const VERSION = /^v[0-9]+$/;
/** What a path segment may hold to become part of a service or endpoint name. */
export const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** `say_hello` / `say-hello` / `sayHello` → `SayHello`. */
export function toCamel(part: string): string {
  return part
    .split(/[-_]/)
    .filter((p) => p !== "")
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join("");
}

const lowerFirst = (s: string): string => s[0]!.toLowerCase() + s.slice(1);

/**
 * The path the gateway resolves to `endpoint` of `service` (`greeter`, `Greeter.Hello` → `/greeter/hello`;
 * `greeter`, `Say.Hello` → `/greeter/say/hello`; `com.example.greeter`, `Greeter.Hello` →
 * `/com/example/greeter/greeter/hello`), or undefined when no path can name it (a name outside the namespace,
 * a segment the path grammar refuses, an endpoint part that path camel-casing cannot give back).
 */
export function rpcRoutePath(service: string, endpoint: string, namespace = ""): string | undefined {
  let name = service;
  if (namespace) {
    if (!service.startsWith(`${namespace}.`)) return undefined;
    name = service.slice(namespace.length + 1);
  }
  const parts = name.split(".");
  const dot = endpoint.indexOf(".");
  if (dot <= 0 || endpoint.indexOf(".", dot + 1) >= 0) return undefined;
  const [svc, method] = [endpoint.slice(0, dot), endpoint.slice(dot + 1)];
  const tail = [lowerFirst(svc), lowerFirst(method)];
  if (!parts.every((p) => SEGMENT.test(p)) || !tail.every((p) => SEGMENT.test(p) && toCamel(p) === p[0]!.toUpperCase() + p.slice(1))) return undefined;
  // `/greeter/hello`: a one-part name whose camel form is the endpoint's service part.
  if (parts.length === 1 && toCamel(parts[0]!) === svc) return `/${parts[0]}/${tail[1]}`;
  // Three segments starting with a version read as `<v>.<name>` + `Name.Method`: only when that is what is meant.
  if (parts.length === 1 && VERSION.test(parts[0]!)) return undefined;
  return `/${[...parts, ...tail].join("/")}`;
}
