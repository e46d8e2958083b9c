/**
 * What every gateway handler shares: the runtime client and registry, the route table, the resolved-target
 * cache, and the options.
 */
import type { Authorizer } from "../runtime/auth/index.js";
import type { Client } from "../runtime/client/index.js";
import type { Registry } from "../runtime/registry/index.js";
import type { RouteTable } from "./routes.js";
import type { TargetCache } from "./target-cache.js";

export interface GatewayContext {
  readonly client: Client;
  readonly registry: Registry;
  readonly routes: RouteTable;
  /** Targets already resolved, by method and raw path. */
  readonly targets: TargetCache;
  readonly namespace: string;
  /** Backend call timeout in milliseconds. */
  readonly timeout: number;
  readonly maxBody: number;
  /** The auth check of requests the gateway proxies itself (`http` handler); RPCs are checked by the client. */
  readonly authorize?: Authorizer["authorize"];
}
