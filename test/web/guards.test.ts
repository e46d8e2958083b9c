/**
 * The dashboard's small parts without processes: the credential check, the cross-site guard, the cookie
 * filter the proxy uses, and the console's word splitting.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { newAuth } from "../../src/web/auth.js";
import { dropCookies } from "../../src/web/cookies.js";
import { newGuard, SESSION_COOKIE } from "../../src/web/guard.js";
import { words } from "../../src/web/console.js";
import { MicroError } from "../../src/index.js";

const basic = (pair: string) => `Basic ${Buffer.from(pair).toString("base64")}`;

test("token auth: the bearer token or its cookie; a generated token when none is given; stripped before an app", () => {
  const auth = newAuth({ kind: "token", token: "t0k" });
  assert.equal(auth.allows({}), false);
  assert.equal(auth.allows({ authorization: "Bearer t0k" }), true);
  assert.equal(auth.allows({ authorization: "Bearer t0" }), false);
  assert.equal(auth.allows({ cookie: "a=1; micro_web_token=t0k" }), true);
  assert.equal(auth.acceptsQueryToken("t0k"), true);
  assert.equal(auth.acceptsQueryToken("nope"), false);
  assert.deepEqual(auth.strip({ authorization: "Bearer t0k", cookie: "a=1; micro_web_token=t0k", accept: "*/*" }), { cookie: "a=1", accept: "*/*" });
  const generated = newAuth({ kind: "token" });
  assert.ok(generated.token !== undefined && generated.token.length >= 24);
  assert.notEqual(generated.token, newAuth({ kind: "token" }).token);
});

test("basic auth: user:password, a challenge, and a clear error without them", () => {
  const auth = newAuth({ kind: "basic", basic: "ann:s3:cret" });
  assert.equal(auth.allows({ authorization: basic("ann:s3:cret") }), true);
  assert.equal(auth.allows({ authorization: basic("ann:wrong") }), false);
  assert.match(auth.challenge()["www-authenticate"]!, /^Basic realm=/);
  assert.throws(() => newAuth({ kind: "basic" }), (e: unknown) => e instanceof MicroError && e.code === 400 && /user:password/.test(e.detail));
  // Without auth the app still gets its own Authorization header (it is not the dashboard's).
  assert.deepEqual(newAuth().strip({ authorization: "Bearer app" }), { authorization: "Bearer app" });
  assert.equal(newAuth().allows({}), true);
});

test("the guard: same origin, a loopback Host on loopback, and the session's CSRF token for browser requests", () => {
  const guard = newGuard(true);
  const host = "127.0.0.1:8082";
  const refused = (fn: () => void, pattern: RegExp) => assert.throws(fn, (e: unknown) => e instanceof MicroError && e.code === 403 && pattern.test(e.detail));
  refused(() => guard.checkHost({ host: "evil.example:8082" }), /loopback/);
  for (const h of ["localhost:8082", "127.0.0.1:8082", "[::1]:8082"]) guard.checkHost({ host: h });
  newGuard(false).checkHost({ host: "dashboard.example:8082" });
  // A script: no Origin, no session cookie.
  guard.check({ host }, true);
  refused(() => guard.check({ host, origin: "http://evil.example" }, false), /cross-site/);
  const session = guard.newSession();
  const cookie = `${SESSION_COOKIE}=${session}`;
  refused(() => guard.check({ host, origin: `http://${host}`, cookie }, true), /CSRF token/);
  refused(() => guard.check({ host, origin: `http://${host}` }, true), /CSRF token/);
  refused(() => guard.check({ host, cookie, "x-csrf-token": guard.csrfToken(guard.newSession()) }, true), /does not match/);
  guard.check({ host, origin: `http://${host}`, cookie, "x-csrf-token": guard.csrfToken(session) }, true);
  guard.check({ host, cookie }, true, guard.csrfToken(session));
  // A read needs no token.
  guard.check({ host, origin: `http://${host}`, cookie }, false);
});

test("the proxy's cookie filter drops only the named cookies", () => {
  assert.deepEqual(dropCookies({ cookie: "a=1; micro_web_session=x; b=2" }, ["micro_web_session"]), { cookie: "a=1; b=2" });
  assert.deepEqual(dropCookies({ cookie: "micro_web_session=x", x: "1" }, ["micro_web_session"]), { x: "1" });
  assert.deepEqual(dropCookies({ x: "1" }, ["micro_web_session"]), { x: "1" });
});

test("console lines split as a shell would for the micro commands", () => {
  assert.deepEqual(words(`call greeter Greeter.Hello '{"name": "John"}'`), ["call", "greeter", "Greeter.Hello", '{"name": "John"}']);
  assert.deepEqual(words(`publish t "{\\"a\\": 1}"`), ["publish", "t", '{"a": 1}']);
  assert.deepEqual(words("  list   services "), ["list", "services"]);
  assert.deepEqual(words(`a ''`), ["a", ""]);
  assert.throws(() => words(`call x '{`), /unterminated ' quote/);
});
