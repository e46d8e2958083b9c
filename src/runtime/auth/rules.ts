/**
 * Access rules in Go Micro's shape: a resource (service and endpoint, `*` matching any run of characters) →
 * public, or the scopes/roles allowed. The first matching rule in specificity order decides:
 *
 * 1. a rule whose `service` has no `*` before one whose `service` has;
 * 2. then more literal (non-`*`) characters in `service`;
 * 3. then a rule whose `endpoint` has no `*` before one whose `endpoint` has;
 * 4. then more literal characters in `endpoint`;
 * 5. ties keep the order they were given in.
 *
 * A rule that is not public and names no scopes or roles lets any valid token through. A call no rule
 * matches is denied (403): deny is the default.
 */
import { MicroError } from "../errors/index.js";

/** One access rule. */
export interface Rule {
  /** Service name pattern (default `*`): `greeter`, `com.example.*`. */
  service?: string;
  /** Endpoint pattern (default `*`): `Greeter.Hello`, `Greeter.*`. */
  endpoint?: string;
  /** No token needed (a token sent anyway is verified; when valid, its account is on the context). */
  public?: boolean;
  /** The account needs one of these scopes (`scope`/`scp`/`scopes` claims)… */
  scopes?: readonly string[];
  /** …or one of these roles (`roles` claim). */
  roles?: readonly string[];
}

/** The rules when none are given: every endpoint needs a valid token. */
export const DEFAULT_RULES: readonly Rule[] = Object.freeze([{ service: "*", endpoint: "*" }]);

interface Compiled {
  readonly rule: Rule;
  readonly service: RegExp;
  readonly endpoint: RegExp;
  readonly key: readonly number[];
  readonly index: number;
}

const compiled = new WeakMap<readonly Rule[], readonly Compiled[]>();

function pattern(text: string): RegExp {
  return new RegExp(`^${text.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
}

function specificity(text: string): [number, number] {
  return [text.includes("*") ? 0 : 1, text.replace(/\*/g, "").length];
}

function stringList(value: unknown, where: string, field: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((s) => typeof s !== "string" || s === "")) throw MicroError.badRequest("micro.auth", `${where}: "${field}" must be a list of non-empty strings`);
}

/**
 * Check rules (as read from code or a file). @returns the same rules. @throws MicroError (400) naming the
 * bad rule by its position and what is wrong with it.
 */
export function checkRules(rules: readonly unknown[]): readonly Rule[] {
  if (!Array.isArray(rules)) throw MicroError.badRequest("micro.auth", "auth rules must be a list of {service, endpoint, public | scopes | roles}");
  rules.forEach((r, i) => {
    const where = `auth rule ${i + 1}`;
    if (r === null || typeof r !== "object" || Array.isArray(r)) throw MicroError.badRequest("micro.auth", `${where} must be an object like {"service": "greeter", "endpoint": "Greeter.*", "scopes": ["read"]}`);
    const rule = r as Record<string, unknown>;
    for (const k of Object.keys(rule)) if (!["service", "endpoint", "public", "scopes", "roles"].includes(k)) throw MicroError.badRequest("micro.auth", `${where}: unknown field "${k}" (use service, endpoint, public, scopes, roles)`);
    for (const k of ["service", "endpoint"]) if (rule[k] !== undefined && (typeof rule[k] !== "string" || rule[k] === "")) throw MicroError.badRequest("micro.auth", `${where}: "${k}" must be a non-empty pattern (* matches anything)`);
    if (rule.public !== undefined && typeof rule.public !== "boolean") throw MicroError.badRequest("micro.auth", `${where}: "public" must be true or false`);
    stringList(rule.scopes, where, "scopes");
    stringList(rule.roles, where, "roles");
    if (rule.public === true && (rule.scopes !== undefined || rule.roles !== undefined)) throw MicroError.badRequest("micro.auth", `${where}: a public rule cannot also require scopes or roles`);
  });
  return rules as readonly Rule[];
}

/** The rules compiled and in specificity order (cached per rules array). */
function ordered(rules: readonly Rule[]): readonly Compiled[] {
  let c = compiled.get(rules);
  if (c === undefined) {
    c = rules
      .map((rule, index) => {
        const s = rule.service ?? "*";
        const e = rule.endpoint ?? "*";
        return { rule, service: pattern(s), endpoint: pattern(e), key: [...specificity(s), ...specificity(e)], index };
      })
      .sort((a, b) => {
        for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return b.key[i]! - a.key[i]!;
        return a.index - b.index;
      });
    compiled.set(rules, c);
  }
  return c;
}

/** The rule that decides a call to `service`/`endpoint`, or undefined when none matches (deny). */
export function matchRule(rules: readonly Rule[], service: string, endpoint: string): Rule | undefined {
  for (const c of ordered(rules)) if (c.service.test(service) && c.endpoint.test(endpoint)) return c.rule;
  return undefined;
}
