/**
 * Auth (Go Micro's `auth` idea on JWT): bearer tokens verified with jose (loaded on the first token), access
 * rules per service and endpoint, wrappers for handlers and clients, and the one check the gateway shares.
 */
export { authHandlerWrapper, authClientWrapper, type AuthClientOptions } from "./wrappers.js";
export { newAuthorizer, authorizationOf, accountOf, type Authorizer } from "./authorize.js";
export { resolveAuthOptions, AUTH_ERROR_ID, type AuthOptions, type JsonWebKeyObject } from "./options.js";
export { matchRule, checkRules, DEFAULT_RULES, type Rule } from "./rules.js";
export { loadAuthRules } from "./rules-file.js";
export type { Account } from "../server/index.js";
