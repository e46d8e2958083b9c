/**
 * Options of the auth wrappers and the gateway's auth: where the token's verification key comes from (exactly
 * one of `jwks`, `publicKey`, `secret`), the claims it must carry, and the access rules.
 */
import { MicroError } from "../errors/index.js";
import { checkRules, DEFAULT_RULES, type Rule } from "./rules.js";

/** The error id of auth: 401 (no or bad token), 403 (a rule forbids), 400 (bad option), 503 (keys unavailable). */
export const AUTH_ERROR_ID = "micro.auth";

/** A JSON Web Key as JSON (`{ kty, n, e, … }`). */
export type JsonWebKeyObject = Readonly<Record<string, unknown>> & { readonly kty: string };

export interface AuthOptions {
  /** A JWKS URL (`https://idp/.well-known/jwks.json`, fetched and cached by jose), or a key set object `{ keys: [...] }`. */
  jwks?: string | URL | { readonly keys: readonly JsonWebKeyObject[] };
  /** A public key: PEM text (SPKI `BEGIN PUBLIC KEY`, or a certificate) or a JWK object. */
  publicKey?: string | JsonWebKeyObject;
  /** A shared HMAC secret (HS256/384/512). */
  secret?: string | Uint8Array;
  /** Required `iss` claim (one of these). Not checked when absent. */
  issuer?: string | readonly string[];
  /** Required `aud` claim (one of these). Not checked when absent. */
  audience?: string | readonly string[];
  /** Accepted `alg` values (default: every algorithm the key type allows). */
  algorithms?: readonly string[];
  /** Seconds of clock skew allowed for `exp`/`nbf` (default 0). */
  clockTolerance?: number;
  /**
   * Seconds a verified token is remembered, so the same token on the next call is not verified again (default
   * 60; never past its `exp`; 0 turns it off). A key removed from the JWKS stops tokens it signed after this.
   */
  cacheSeconds?: number;
  /**
   * Access rules, most specific first (see rules.ts). Default: one rule `{ service: "*", endpoint: "*" }`, so
   * every endpoint needs a valid token and nothing more. With rules given, a call no rule matches is denied (403).
   */
  rules?: readonly Rule[];
}

export type KeySource = { kind: "jwks"; jwks: NonNullable<AuthOptions["jwks"]> } | { kind: "publicKey"; key: NonNullable<AuthOptions["publicKey"]> } | { kind: "secret"; secret: Uint8Array };

export interface ResolvedAuthOptions {
  readonly key: KeySource;
  readonly issuer?: string | string[];
  readonly audience?: string | string[];
  readonly algorithms?: string[];
  readonly clockTolerance: number;
  readonly cacheSeconds: number;
  readonly rules: readonly Rule[];
}

const list = (v: string | readonly string[] | undefined): string | string[] | undefined => (v === undefined ? undefined : typeof v === "string" ? v : [...v]);

/**
 * Check the options. @throws MicroError (400, `micro.auth`) when not exactly one key source is given, the
 * secret is empty, or a rule is malformed.
 */
export function resolveAuthOptions(options: AuthOptions): ResolvedAuthOptions {
  const given = (["jwks", "publicKey", "secret"] as const).filter((k) => options[k] !== undefined && options[k] !== "");
  if (given.length !== 1) {
    throw MicroError.badRequest(AUTH_ERROR_ID, given.length === 0 ? "auth needs a key to verify tokens with: give one of jwks (a URL), publicKey (PEM or JWK) or secret (HMAC)" : `auth takes one key source, got ${given.join(" and ")}`);
  }
  const tolerance = options.clockTolerance ?? 0;
  if (typeof tolerance !== "number" || !Number.isFinite(tolerance) || tolerance < 0) throw MicroError.badRequest(AUTH_ERROR_ID, `auth option clockTolerance must be a number of seconds ≥ 0, got ${String(tolerance)}`);
  const cacheSeconds = options.cacheSeconds ?? 60;
  if (typeof cacheSeconds !== "number" || !Number.isFinite(cacheSeconds) || cacheSeconds < 0) throw MicroError.badRequest(AUTH_ERROR_ID, `auth option cacheSeconds must be a number of seconds ≥ 0, got ${String(cacheSeconds)}`);
  let key: KeySource;
  if (options.secret !== undefined) {
    const secret = typeof options.secret === "string" ? new TextEncoder().encode(options.secret) : options.secret;
    if (secret.length === 0) throw MicroError.badRequest(AUTH_ERROR_ID, "auth secret is empty");
    key = { kind: "secret", secret };
  } else if (options.publicKey !== undefined) key = { kind: "publicKey", key: options.publicKey };
  else key = { kind: "jwks", jwks: options.jwks! };
  const issuer = list(options.issuer);
  const audience = list(options.audience);
  return {
    key,
    ...(issuer !== undefined ? { issuer } : {}),
    ...(audience !== undefined ? { audience } : {}),
    ...(options.algorithms ? { algorithms: [...options.algorithms] } : {}),
    clockTolerance: tolerance,
    cacheSeconds,
    rules: options.rules === undefined ? DEFAULT_RULES : checkRules(options.rules),
  };
}
