/**
 * The one auth check, shared by the handler wrapper, the gateway and (later) the web dashboard: from an
 * `authorization` value (`Bearer <jwt>`) and the resource called, the caller's account — or a MicroError:
 * 401 when a token is needed and missing, malformed, expired, badly signed or for another issuer/audience;
 * 403 when the rules do not let this account call this resource (or no rule matches: deny is the default).
 */
import { MicroError } from "../errors/index.js";
import { logger } from "../logger/index.js";
import type { Metadata } from "../metadata/index.js";
import type { Account } from "../server/index.js";
import { AUTH_ERROR_ID, resolveAuthOptions, type AuthOptions } from "./options.js";
import { matchRule, type Rule } from "./rules.js";
import { newVerifier } from "./verify.js";

const log = logger("auth");

export interface Authorizer {
  /**
   * The account of the caller of `service`/`endpoint`, or undefined on a public resource called without a
   * (valid) token. @throws MicroError 401 / 403 (id `micro.auth`), 503 when the key set cannot be fetched.
   */
  authorize(authorization: string | undefined, service: string, endpoint: string): Promise<Account | undefined>;
  /**
   * The hot path: the account when the token was verified before (and is remembered) and a non-public rule
   * grants the call, without waiting; undefined when {@link authorize} must decide (it also gives the errors).
   */
  granted(authorization: string | undefined, service: string, endpoint: string): Account | undefined;
}

/** The `authorization` value of call metadata (the key in any case; the gateway forwards it lower-case). */
export function authorizationOf(metadata: Readonly<Metadata>): string | undefined {
  const v = metadata.authorization;
  if (v !== undefined) return v;
  for (const k in metadata) if (k.toLowerCase() === "authorization") return metadata[k];
  return undefined;
}

const BEARER = /^\s*Bearer\s+(\S+)\s*$/i;

/** The token of `Bearer <token>`; 401 for any other scheme. */
function bearer(authorization: string): string {
  const m = BEARER.exec(authorization);
  if (!m) throw MicroError.unauthorized(AUTH_ERROR_ID, `authorization must be "Bearer <token>", got a ${authorization.split(/\s/, 1)[0] || "blank"} value`);
  return m[1]!;
}

const strings = (v: unknown): string[] => (typeof v === "string" ? v.split(" ").filter(Boolean) : Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : []);

/** An account from verified claims. */
export function accountOf(claims: Record<string, unknown>): Account {
  const scopes = [...new Set([...strings(claims.scope), ...strings(claims.scp), ...strings(claims.scopes)])];
  return Object.freeze({
    id: typeof claims.sub === "string" ? claims.sub : "",
    ...(typeof claims.iss === "string" ? { issuer: claims.iss } : {}),
    scopes: Object.freeze(scopes),
    roles: Object.freeze(strings(claims.roles)),
    claims: Object.freeze({ ...claims }),
  });
}

/** Whether a (non-public) rule lets the account in: any valid token when it names no scopes or roles. */
function allows(rule: Rule, acc: Account): boolean {
  const needScopes = rule.scopes ?? [];
  const needRoles = rule.roles ?? [];
  if (needScopes.length === 0 && needRoles.length === 0) return true;
  return needScopes.some((s) => acc.scopes.includes(s)) || needRoles.some((r) => acc.roles.includes(r));
}

/** An authorizer for the options. @throws MicroError (400) for bad options. jose loads on the first token. */
export function newAuthorizer(options: AuthOptions): Authorizer {
  const resolved = resolveAuthOptions(options);
  const verify = newVerifier(resolved);
  const rules = resolved.rules;
  // One account per verified payload (the verifier remembers payloads): no claim parsing per call.
  const accounts = new WeakMap<object, Account>();
  const accountFor = (payload: Record<string, unknown>): Account => {
    let acc = accounts.get(payload);
    if (acc === undefined) accounts.set(payload, (acc = accountOf(payload)));
    return acc;
  };
  const account = async (authorization: string): Promise<Account> => accountFor(await verify(bearer(authorization)));
  return {
    granted(authorization, service, endpoint) {
      if (authorization === undefined) return undefined;
      const token = BEARER.exec(authorization)?.[1];
      const payload = token === undefined ? undefined : verify.remembered(token);
      if (payload === undefined) return undefined;
      const rule = matchRule(rules, service, endpoint);
      if (rule === undefined || rule.public) return undefined;
      const acc = accountFor(payload);
      return allows(rule, acc) ? acc : undefined;
    },
    async authorize(authorization, service, endpoint) {
      const rule = matchRule(rules, service, endpoint);
      const given = authorization !== undefined && authorization.trim() !== "";
      if (rule?.public) {
        if (!given) return undefined;
        try {
          return await account(authorization);
        } catch (error) {
          // A public resource is served whatever the token; the handler just sees no account.
          log.debug({ service, endpoint, err: error }, "token on a public endpoint not accepted; serving without an account");
          return undefined;
        }
      }
      if (!given) throw MicroError.unauthorized(AUTH_ERROR_ID, `${service} ${endpoint} needs a bearer token: send metadata "authorization: Bearer <token>"`);
      const acc = await account(authorization);
      if (rule === undefined) throw MicroError.forbidden(AUTH_ERROR_ID, `no auth rule allows ${service} ${endpoint} (unmatched calls are denied)`);
      if (allows(rule, acc)) return acc;
      const needScopes = rule.scopes ?? [];
      const needRoles = rule.roles ?? [];
      const wanted = [...(needScopes.length ? [`scope ${needScopes.join(" or ")}`] : []), ...(needRoles.length ? [`role ${needRoles.join(" or ")}`] : [])].join(", or ");
      throw MicroError.forbidden(AUTH_ERROR_ID, `${acc.id || "the caller"} may not call ${service} ${endpoint}: needs ${wanted}`);
    },
  };
}
