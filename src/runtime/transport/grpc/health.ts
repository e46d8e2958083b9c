/**
 * `grpc.health.v1.Health` (the standard gRPC health checking protocol) as an ordinary micro service
 * definition and handler, so that any server can serve it: Kubernetes gRPC probes, grpc-health-probe and load
 * balancers ask it whether the server (service name `""`) or one of its services is SERVING.
 *
 * - Check: SERVING while the server runs, NOT_SERVING before it is ready and from the moment it starts
 *   draining; a service name the server does not serve is NOT_FOUND (as the protocol says).
 * - Watch (server stream): the current status at once, then every change; SERVICE_UNKNOWN for a name the
 *   server does not serve. When the server starts draining the stream sends NOT_SERVING and ends, so that
 *   watchers do not hold the drain up.
 *
 * The messages are encoded by hand with @bufbuild/protobuf's wire writer and reader.
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { MessageCodec } from "../../codec/index.js";
import type { ServiceDefinition } from "../../definition/index.js";
import { MicroError } from "../../errors/index.js";

/** What the standard services need of a server (RpcServer has it). */
export interface StandardServicesHost {
  /** Add a handler; `internal: true` serves it without publishing it in the registry. */
  handle(definition: ServiceDefinition, implementation: object, options?: { internal?: boolean }): void;
  /** Every service definition the server handles. */
  definitions(): readonly ServiceDefinition[];
  /** True while the server serves (running and not draining). */
  readonly serving: boolean;
  /** Called on every change of `serving`; returns the function that stops it. */
  onServingChange(listener: (serving: boolean) => void): () => void;
}

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`. */
export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
export type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];
const STATUS_NAMES = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const;

/** `grpc.health.v1.HealthCheckRequest`. */
export interface HealthCheckRequest {
  /** A fully qualified service name (`greeter.v1.Greeter`), or `""` for the whole server. */
  service: string;
}
/** `grpc.health.v1.HealthCheckResponse`. */
export interface HealthCheckResponse {
  status: ServingStatus;
}

function badJson(type: string, json: unknown): MicroError {
  return MicroError.badRequest("micro.codec", `${type}: expected a JSON object, got ${JSON.stringify(json)}`);
}

const healthCheckRequest: MessageCodec<HealthCheckRequest> = {
  typeName: "grpc.health.v1.HealthCheckRequest",
  encode(m) {
    const w = new BinaryWriter();
    if (m.service !== "") w.tag(1, WireType.LengthDelimited).string(m.service);
    return w.finish();
  },
  decode(bytes) {
    const r = new BinaryReader(bytes);
    let service = "";
    while (r.pos < r.len) {
      const [field, wireType] = r.tag();
      if (field === 1 && wireType === WireType.LengthDelimited) service = r.string();
      else r.skip(wireType, field);
    }
    return { service };
  },
  fromJSON(json) {
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw badJson(this.typeName, json);
    const service = (json as { service?: unknown }).service ?? "";
    if (typeof service !== "string") throw MicroError.badRequest("micro.codec", `service: expected a string, got ${JSON.stringify(service)}`);
    return { service };
  },
  toJSON: (m) => (m.service === "" ? {} : { service: m.service }),
  fields: [{ name: "service", type: "string" }],
};

const healthCheckResponse: MessageCodec<HealthCheckResponse> = {
  typeName: "grpc.health.v1.HealthCheckResponse",
  encode(m) {
    const w = new BinaryWriter();
    if (m.status !== 0) w.tag(1, WireType.Varint).int32(m.status);
    return w.finish();
  },
  decode(bytes) {
    const r = new BinaryReader(bytes);
    let status = 0;
    while (r.pos < r.len) {
      const [field, wireType] = r.tag();
      if (field === 1 && wireType === WireType.Varint) status = r.int32();
      else r.skip(wireType, field);
    }
    return { status: status as ServingStatus };
  },
  fromJSON(json) {
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw badJson(this.typeName, json);
    const v = (json as { status?: unknown }).status ?? 0;
    const i = typeof v === "string" ? STATUS_NAMES.indexOf(v as (typeof STATUS_NAMES)[number]) : typeof v === "number" ? v : -1;
    if (!(i >= 0 && i < STATUS_NAMES.length && Number.isInteger(i))) throw MicroError.badRequest("micro.codec", `status: expected one of ${STATUS_NAMES.join(", ")}, got ${JSON.stringify(v)}`);
    return { status: i as ServingStatus };
  },
  toJSON: (m) => ({ status: STATUS_NAMES[m.status] ?? m.status }),
  fields: [{ name: "status", type: "grpc.health.v1.HealthCheckResponse.ServingStatus" }],
};

/** The service definition of `grpc.health.v1.Health` (endpoints `Health.Check`, `Health.Watch`). */
export const Health = {
  name: "Health",
  fullName: "grpc.health.v1.Health",
  methods: {
    check: { name: "Check", kind: "unary", input: healthCheckRequest, output: healthCheckResponse },
    watch: { name: "Watch", kind: "server_streaming", input: healthCheckRequest, output: healthCheckResponse },
  },
} as const satisfies ServiceDefinition;

/** The handler of {@link Health} for `host`. */
export function healthHandler(host: StandardServicesHost): {
  check(request: HealthCheckRequest): HealthCheckResponse;
  watch(request: HealthCheckRequest, context: { signal: AbortSignal }): AsyncIterable<HealthCheckResponse>;
} {
  const known = (service: string): boolean => service === "" || host.definitions().some((d) => d.fullName === service);
  const status = (service: string): ServingStatus => (!known(service) ? ServingStatus.SERVICE_UNKNOWN : host.serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  return {
    check({ service }) {
      const s = status(service);
      if (s === ServingStatus.SERVICE_UNKNOWN) throw MicroError.notFound("grpc.health", `unknown service ${JSON.stringify(service)}: this server serves ${host.definitions().map((d) => d.fullName).join(", ")}`);
      return { status: s };
    },
    async *watch({ service }, { signal }) {
      // Changes are queued as they happen, so none is lost between two sends.
      let wake: (() => void) | undefined;
      const changes: boolean[] = [];
      const stop = host.onServingChange((serving) => {
        changes.push(serving);
        wake?.();
      });
      const onAbort = (): void => wake?.();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        let last = status(service);
        yield { status: last };
        while (!signal.aborted) {
          if (changes.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          const drained = changes.splice(0);
          if (drained.length === 0) continue;
          const now = status(service);
          if (now !== last) {
            last = now;
            yield { status: now };
          }
          // The server started draining: the watcher has heard it; end the stream so the drain is not held up.
          if (drained.includes(false) && !host.serving) return;
        }
      } finally {
        stop();
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
