/**
 * The auth wrappers: `authHandlerWrapper` checks every call's bearer token and the rules before the handler
 * runs (the account lands on `context.account`); `authClientWrapper` adds a token to outgoing calls, its own
 * or the one of the call being handled (`forward`).
 */
import type { ClientCallFunc, ClientRequest, ClientWrapper } from "../client/index.js";
import { MicroError } from "../errors/index.js";
import type { HandlerRequest, HandlerWrapper } from "../server/index.js";
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
  return (next) => {
    const run = (request: HandlerRequest, authorization: string | undefined, account: Account | undefined): unknown => {
      if (account !== undefined) (request.context as { account?: Account }).account = account;
      return authorization === undefined || !forwarding() ? next(request) : incomingAuthorization.run(authorization, next, request);
    };
    return (request) => {
      const authorization = authorizationOf(request.context.metadata);
      // A remembered token that a rule grants is let through without waiting; anything else is decided by authorize().
      const known = authorizer.granted(authorization, request.service, request.endpoint);
      if (known !== undefined) return run(request, authorization, known);
      return authorizer.authorize(authorization, request.service, request.endpoint).then((account) => run(request, authorization, account));
    };
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
  const send = (next: ClientCallFunc, request: ClientRequest, value: string | undefined): Promise<unknown> =>
    value === undefined ? next(request) : next({ ...request, options: { ...request.options, metadata: { ...request.options.metadata, authorization: value } } });
  return (next) => (request) => {
    const md = request.options.metadata;
    if (md !== undefined && authorizationOf(md) !== undefined) return next(request);
    const value = (options.forward ? incomingAuthorization.getStore() : undefined) ?? fixed;
    if (value !== undefined || options.getToken === undefined) return send(next, request, value);
    return Promise.resolve(options.getToken()).then((token) => send(next, request, `Bearer ${token}`));
  };
}
