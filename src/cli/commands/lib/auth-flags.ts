/**
 * The auth flags of the commands that serve HTTP (`micro api`, and the web dashboard): `--auth_jwks`,
 * `--auth_public_key`, `--auth_secret`, `--auth_issuer`, `--auth_audience`, `--auth_rules`, turned into the
 * runtime's `AuthOptions`. Without a key flag there is no auth.
 */
import { readFile } from "node:fs/promises";
import type { Argv } from "yargs";
import { loadAuthRules, resolveAuthOptions, type AuthOptions } from "../../../runtime/auth/index.js";
import { MicroError } from "../../../runtime/errors/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";

export interface AuthFlags {
  auth_jwks?: string;
  auth_public_key?: string;
  auth_secret?: string;
  auth_issuer?: string;
  auth_audience?: string;
  auth_rules?: string;
}

/** Add the auth flags to a command. */
export function authFlagOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option("auth_jwks", { type: "string", describe: "Verify bearer tokens with the keys at this JWKS URL" })
    .option("auth_public_key", { type: "string", describe: "…or with this public key: a PEM file (or PEM text)" })
    .option("auth_secret", { type: "string", describe: "…or with this HMAC secret (HS256/384/512)" })
    .option("auth_issuer", { type: "string", describe: "Required iss claim (comma-separated: any of them)" })
    .option("auth_audience", { type: "string", describe: "Required aud claim (comma-separated: any of them)" })
    .option("auth_rules", { type: "string", describe: "Access rules file (.json, .yaml): [{service, endpoint, public | scopes | roles}]; default: any valid token" }) as unknown as Argv<T>;
}

const csv = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v.split(",").map((s) => s.trim()).filter(Boolean));

/** The auth options the flags ask for, or undefined when no key flag is given. @throws UsageError for bad flags. */
export async function authOptionsFromFlags(args: AuthFlags): Promise<AuthOptions | undefined> {
  const keyFlags = (["auth_jwks", "auth_public_key", "auth_secret"] as const).filter((k) => args[k] !== undefined);
  const extras = (["auth_issuer", "auth_audience", "auth_rules"] as const).filter((k) => args[k] !== undefined);
  if (keyFlags.length === 0) {
    if (extras.length > 0) throw new UsageError(`--${extras[0]} needs a key to verify tokens with: --auth_jwks, --auth_public_key or --auth_secret`);
    return undefined;
  }
  if (keyFlags.length > 1) throw new UsageError(`give one of --auth_jwks, --auth_public_key, --auth_secret (got ${keyFlags.map((k) => `--${k}`).join(" and ")})`);
  try {
    let publicKey: string | undefined;
    if (args.auth_public_key !== undefined) {
      publicKey = args.auth_public_key.includes("-----BEGIN") ? args.auth_public_key : await readFile(args.auth_public_key, "utf8").catch((error: unknown) => {
        throw new UsageError(`--auth_public_key: cannot read ${args.auth_public_key}: ${(error as Error).message}`);
      });
    }
    const options: AuthOptions = {
      ...(args.auth_jwks !== undefined ? { jwks: args.auth_jwks } : {}),
      ...(publicKey !== undefined ? { publicKey } : {}),
      ...(args.auth_secret !== undefined ? { secret: args.auth_secret } : {}),
      ...(args.auth_issuer !== undefined ? { issuer: csv(args.auth_issuer) } : {}),
      ...(args.auth_audience !== undefined ? { audience: csv(args.auth_audience) } : {}),
      ...(args.auth_rules !== undefined ? { rules: await loadAuthRules(args.auth_rules) } : {}),
    };
    if (options.jwks !== undefined) {
      try {
        new URL(String(options.jwks));
      } catch {
        throw new UsageError(`--auth_jwks must be a URL, e.g. https://issuer/.well-known/jwks.json; got "${String(options.jwks)}"`);
      }
    }
    resolveAuthOptions(options);
    return options;
  } catch (error) {
    if (error instanceof MicroError && error.code === 400) throw new UsageError(error.detail);
    throw error;
  }
}
