/**
 * The auth wrappers: `authHandlerWrapper` checks every call's bearer token and the rules before the handler
 * runs (the account lands on `context.account`); `authClientWrapper` adds a token to outgoing calls, its own
 * or the one of the call being handled (`forward`).
 */
import type { ClientWrapper } from "../client/index.js";
import { MicroError } from "../errors/index.js";
import type { HandlerWrapper } from "../server/index.js";
import type { Account } from "../server/index.js";
import { authorizationOf, newAuthorizer } from "./authorize.js";
import { enableForwarding, forwarding, incomingAuthorization } from "./forward.js";
import { AUTH_ERROR_ID, type AuthOptions } from "./options.js";

/**
 * Verify the bearer token in the call's `authorization` metadata and apply the rules: 401 / 403 MicroError
 * before the handler runs, else the account on `context.account`. `Debug.Health` is never wrapped.
 * @throws MicroError (400) at creation for bad options.
 */
export function authHandlerWrapper(options: AuthOptions): HandlerWrapper {
  const authorizer = newAuthorizer(options);
  return (next) => async (request) => {
    const authorization = authorizationOf(request.context.metadata);
    const account = await authorizer.authorize(authorization, request.service, request.endpoint);
    if (account !== undefined) (request.context as { account?: Account }).account = account;
    return authorization === undefined || !forwarding() ? next(request) : incomingAuthorization.run(authorization, next, request);
  };
}

export interface AuthClientOptions {
  /** A fixed token (sent as `Bearer <token>`). */
  token?: string;
  /** A token per call (e.g. refreshed from an identity provider); called for each call. */
  getToken?: () => string | Promise<string>;
  /** Forward the token of the call being handled, when there is one (default false); `token`/`getToken` otherwise. */
  forward?: boolean;
}

/**
 * Add `authorization: Bearer <token>` to every outgoing call's metadata. Metadata the call sets itself wins
 * (an explicit `authorization` is never replaced). With nothing to send, the call goes out as it is.
 */
export function authClientWrapper(options: AuthClientOptions): ClientWrapper {
  if (options.token === undefined && options.getToken === undefined && !options.forward) {
    throw MicroError.badRequest(AUTH_ERROR_ID, "authClientWrapper needs token, getToken or forward: true");
  }
  if (options.forward) enableForwarding();
  const fixed = options.token === undefined ? undefined : `Bearer ${options.token}`;
  return (next) => async (request) => {
    const md = request.options.metadata;
    if (md !== undefined && authorizationOf(md) !== undefined) return next(request);
    let value = options.forward ? incomingAuthorization.getStore() : undefined;
    if (value === undefined) value = fixed ?? (options.getToken ? `Bearer ${await options.getToken()}` : undefined);
    if (value === undefined) return next(request);
    return next({ ...request, options: { ...request.options, metadata: { ...md, authorization: value } } });
  };
}
