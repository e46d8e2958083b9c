/**
 * Token verification on jose, loaded on the first token (a service without auth never loads it): the key
 * from a JWKS URL (`createRemoteJWKSet`, fetched and cached by jose), a key set object, a public key (PEM or
 * JWK) or an HMAC secret, then `jwtVerify` with the issuer, audience and algorithms asked for. Every failure
 * is a MicroError: 401 saying what was wrong with the token, or 503 when the key set cannot be fetched.
 */
import { createPublicKey, createSecretKey } from "node:crypto";
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from "jose";
import { MicroError } from "../errors/index.js";
import { AUTH_ERROR_ID, type ResolvedAuthOptions } from "./options.js";

type Jose = typeof import("jose");
type Key = Parameters<Jose["jwtVerify"]>[1];

/** Verifies one compact JWT; resolves to its payload. */
export interface Verifier {
  (token: string): Promise<JWTPayload>;
  /** The payload of a token verified before and still remembered, without waiting; undefined otherwise. */
  remembered(token: string): JWTPayload | undefined;
}

let jose: Promise<Jose> | undefined;
const loadJose = (): Promise<Jose> => (jose ??= import("jose"));

async function keyOf(j: Jose, options: ResolvedAuthOptions): Promise<Key | JWTVerifyGetKey> {
  const source = options.key;
  switch (source.kind) {
    case "secret":
      // A KeyObject, not the bytes: jose converts a KeyObject once and keeps it, bytes on every token.
      return createSecretKey(source.secret);
    case "jwks":
      if (typeof source.jwks === "string" || source.jwks instanceof URL) {
        let url: URL;
        try {
          url = new URL(source.jwks);
        } catch {
          throw MicroError.badRequest(AUTH_ERROR_ID, `auth jwks "${String(source.jwks)}" is not a URL; give e.g. https://issuer/.well-known/jwks.json`);
        }
        return j.createRemoteJWKSet(url);
      }
      return j.createLocalJWKSet(source.jwks as Parameters<Jose["createLocalJWKSet"]>[0]);
    case "publicKey":
      try {
        // node:crypto reads SPKI PEM, certificates and JWKs alike; jose takes the KeyObject and checks `alg` against it.
        return typeof source.key === "string" ? createPublicKey(source.key) : createPublicKey({ key: source.key as never, format: "jwk" });
      } catch (error) {
        throw MicroError.badRequest(AUTH_ERROR_ID, `auth publicKey cannot be read (${(error as Error).message}); give PEM text (BEGIN PUBLIC KEY) or a JWK object`);
      }
  }
}

/** What a jose error says about the token, in words a caller can act on. */
function explain(error: unknown): MicroError {
  if (error instanceof MicroError) return error;
  const e = error as { code?: string; message?: string; claim?: string; reason?: string };
  const message = e.message ?? String(error);
  switch (e.code) {
    case "ERR_JWT_EXPIRED":
      return MicroError.unauthorized(AUTH_ERROR_ID, `token expired (${message})`);
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return MicroError.unauthorized(AUTH_ERROR_ID, "token signature is invalid");
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return MicroError.unauthorized(AUTH_ERROR_ID, `token claim ${e.claim ? `"${e.claim}" ` : ""}rejected: ${message}`);
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return MicroError.unauthorized(AUTH_ERROR_ID, `token algorithm not allowed: ${message}`);
    case "ERR_JWKS_NO_MATCHING_KEY":
      return MicroError.unauthorized(AUTH_ERROR_ID, "no key in the key set matches the token (kid/alg)");
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWKS_INVALID":
      return new MicroError(AUTH_ERROR_ID, 503, `cannot fetch the key set to verify tokens: ${message}`);
    default:
      if (typeof e.code === "string" && e.code.startsWith("ERR_J")) return MicroError.unauthorized(AUTH_ERROR_ID, `malformed token: ${message}`);
      if (error instanceof TypeError || /fetch|ECONNREFUSED|Expected 200 OK/i.test(message)) return new MicroError(AUTH_ERROR_ID, 503, `cannot fetch the key set to verify tokens: ${message}`);
      return MicroError.unauthorized(AUTH_ERROR_ID, `token rejected: ${message}`);
  }
}

/** Verified tokens remembered at most (the oldest is forgotten first). */
const CACHE_ENTRIES = 10_000;

/**
 * A verifier for the options; jose is loaded, and the key prepared, on the first token. A verified token is
 * remembered (by its exact text) for `cacheSeconds`, never past its `exp`, so a client sending the same token
 * on every call pays for one verification; a rejected token is never remembered.
 */
export function newVerifier(options: ResolvedAuthOptions): Verifier {
  const cacheMs = options.cacheSeconds * 1000;
  const cache = new Map<string, { payload: JWTPayload; until: number }>();
  const verifyOptions: JWTVerifyOptions = {
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    ...(options.algorithms ? { algorithms: options.algorithms } : {}),
    clockTolerance: options.clockTolerance,
  };
  let ready: Promise<{ j: Jose; key: Key | JWTVerifyGetKey }> | undefined;
  const prepare = () =>
    (ready ??= loadJose().then(async (j) => ({ j, key: await keyOf(j, options) })).catch((error: unknown) => {
      ready = undefined;
      throw error;
    }));
  const remembered = (token: string): JWTPayload | undefined => {
    if (cacheMs === 0) return undefined;
    const hit = cache.get(token);
    if (hit === undefined) return undefined;
    if (Date.now() < hit.until) return hit.payload;
    cache.delete(token);
    return undefined;
  };
  const verify = async (token: string): Promise<JWTPayload> => {
    const hit = remembered(token);
    if (hit !== undefined) return hit;
    const { j, key } = await prepare();
    let payload: JWTPayload;
    try {
      payload = (typeof key === "function" ? await j.jwtVerify(token, key, verifyOptions) : await j.jwtVerify(token, key, verifyOptions)).payload;
    } catch (error) {
      throw explain(error);
    }
    if (cacheMs > 0) {
      const expiry = typeof payload.exp === "number" ? payload.exp * 1000 : Infinity;
      if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(token, { payload, until: Math.min(Date.now() + cacheMs, expiry) });
    }
    return payload;
  };
  return Object.assign(verify, { remembered });
}
