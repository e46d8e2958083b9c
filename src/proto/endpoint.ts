/**
 * The one endpoint naming rule: a proto service's short name and a method's proto name, joined by a dot
 * (`Greeter.Hello`), as Go Micro names endpoints on the wire, in the registry and on the command line. The
 * generator (which may not import runtime code) and the runtime's `endpointName` both use it.
 */
export function endpointNameOf(serviceName: string, methodName: string): string {
  return `${serviceName}.${methodName}`;
}
