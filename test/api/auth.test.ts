/**
 * The gateway's auth and `micro call --token`, with real processes on loopback: `micro api --auth_secret
 * --auth_rules rules.yaml` in front of a service that verifies the same tokens (so the token must pass
 * through the gateway), answering 401/403 in the gateway's error shape.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { READY_MS, micro, startFixture, startGateway, stop, testEnv, type Fixture } from "../cli/support.js";

const SECRET = "gateway-test-secret";
const sign = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject(String(claims.sub ?? "ann")).setAudience("web").setExpirationTime("5m").sign(new TextEncoder().encode(secret));

describe("gateway auth and micro call --token", () => {
  const { env, remove } = testEnv();
  let service: Fixture | undefined;
  let gateway: Fixture | undefined;
  let url = "";
  const dir = mkdtempSync(join(tmpdir(), "micro-auth-rules-"));

  before(async () => {
    const rules = [
      { service: "greeter", endpoint: "Greeter.Stream", public: true },
      { service: "greeter", endpoint: "Greeter.Fail", roles: ["admin"] },
      { service: "*", endpoint: "*" },
    ];
    service = (await startFixture("production-service", { ...env, AUTH: JSON.stringify({ secret: SECRET, audience: "web", rules }) }, [], [], READY_MS)).proc;
    const file = join(dir, "rules.yaml");
    writeFileSync(
      file,
      ["rules:", "  - service: greeter", "    endpoint: Greeter.Stream", "    public: true", "  - service: greeter", "    endpoint: Greeter.Fail", "    roles: [admin]", '  - service: "*"', ""].join("\n"),
    );
    const gw = await startGateway(env, ["--auth_secret", SECRET, "--auth_audience", "web", "--auth_rules", file], READY_MS);
    gateway = gw.proc;
    url = gw.url;
  });

  after(async () => {
    await Promise.all([stop(gateway), stop(service)]);
    remove();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown, token?: string) =>
    fetch(url + path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) } });

  test("no token: 401 in the error shape, with WWW-Authenticate", async () => {
    const r = await post("/greeter/greeter/hello", { name: "x" });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get("www-authenticate"), "Bearer");
    const body = (await r.json()) as Record<string, unknown>;
    assert.equal(body.id, "micro.auth");
    assert.equal(body.code, 401);
    assert.match(String(body.detail), /needs a bearer token/);
    assert.equal(body.status, "Unauthorized");
  });

  test("a forged token: 401 at the gateway", async () => {
    const r = await post("/greeter/greeter/hello", { name: "x" }, await sign({ sub: "ann" }, "not-the-secret"));
    assert.equal(r.status, 401);
    assert.match(String(((await r.json()) as { detail: string }).detail), /signature/);
  });

  test("a valid token passes through: the service verifies it too and sees its claims", async () => {
    const r = await post("/greeter/greeter/hello", { name: "x" }, await sign({ sub: "ann", roles: ["user"] }));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(((await r.json()) as { message: string }).message), { id: "ann", scopes: [], roles: ["user"], aud: "web" });
  });

  test("a rule the account does not meet: 403", async () => {
    const r = await post("/greeter/greeter/fail", { name: "x" }, await sign({ sub: "ann", roles: ["user"] }));
    assert.equal(r.status, 403);
    const body = (await r.json()) as Record<string, unknown>;
    assert.equal(body.id, "micro.auth");
    assert.match(String(body.detail), /ann may not call greeter Greeter\.Fail: needs role admin/);
    const admin = await post("/greeter/greeter/fail", { name: "y" }, await sign({ sub: "root", roles: ["admin"] }));
    assert.equal(admin.status, 200);
  });

  test("a public streaming endpoint answers without a token (SSE)", async () => {
    const r = await fetch(`${url}/v1/greet/Zed:stream`, { headers: { accept: "text/event-stream" } });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /public Zed null/);
  });

  test("micro call --token and MICRO_AUTH_TOKEN send the token; without one the call fails with 401", async () => {
    const t = await sign({ sub: "cli-user" });
    const ok = await micro(["call", "greeter", "Greeter.Hello", '{"name":"c"}', "--token", t], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse((JSON.parse(ok.stdout) as { message: string }).message).id, "cli-user");
    const viaEnv = await micro(["call", "greeter", "Greeter.Hello", "{}"], { ...env, MICRO_AUTH_TOKEN: t });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    const none = await micro(["call", "greeter", "Greeter.Hello", "{}"], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /"code":\s*401/);
    const both = await micro(["call", "greeter", "Greeter.Hello", "{}", "--token", t, "--metadata", `authorization=Bearer ${t}`], env);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /not both/);
  });

  test("the http handler checks proxied requests as <METHOD> <path> of the service", async () => {
    const web = (await startFixture("http-service", env, [], [], READY_MS)).proc;
    const gw = await startGateway(env, ["--handler", "http", "--auth_secret", SECRET, "--auth_rules", join(dir, "rules.yaml")], READY_MS);
    try {
      assert.equal((await fetch(`${gw.url}/web/page`)).status, 401);
      const r = await fetch(`${gw.url}/web/page`, { headers: { authorization: `Bearer ${await sign({ sub: "ann" })}` } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("x-served-by"), "http-service");
    } finally {
      await Promise.all([stop(gw.proc), stop(web)]);
    }
  });

  test("bad auth flags are usage errors (exit 2)", async () => {
    const r = await micro(["api", "--address", "127.0.0.1:0", "--auth_secret", "a", "--auth_jwks", "http://127.0.0.1:1/jwks"], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give one of --auth_jwks, --auth_public_key, --auth_secret/);
    const rules = await micro(["api", "--address", "127.0.0.1:0", "--auth_secret", "a", "--auth_rules", "/nonexistent/rules.yaml"], env);
    assert.equal(rules.code, 2);
    assert.match(rules.stderr, /cannot read auth rules file/);
  });
});
