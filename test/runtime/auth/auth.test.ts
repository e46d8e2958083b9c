/**
 * Auth end to end on loopback: a service process with `authHandlerWrapper` verifying RS256 tokens against a
 * JWKS the test serves over HTTP, called by this process's client; rules (public, scopes, default), the
 * failure cases (401/403), and token forwarding to a second service.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { MicroError, authClientWrapper, matchRule, newAuthorizer, type ClientRequest, type RpcClient } from "../../../src/index.js";
import { Greeter } from "../../fixtures/cli/definitions.js";
import { READY_MS, openClient, startFixture, stop, testEnv, type Fixture } from "../../cli/support.js";

const ISSUER = "https://issuer.test";
const AUDIENCE = "greeter-api";
const hello = { service: "greeter", endpoint: "Greeter.Hello", method: Greeter.methods.hello };

async function token(key: CryptoKey, claims: Record<string, unknown>, options: { kid?: string; exp?: string | number; aud?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: options.kid ?? "k1" })
    .setIssuer(ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setSubject(String(claims.sub ?? "alice"))
    .setIssuedAt()
    .setExpirationTime(options.exp ?? "5m")
    .sign(key);
}

const rejects = (code: number, detail: RegExp) => (e: unknown) => e instanceof MicroError && e.code === code && e.id === "micro.auth" && detail.test(e.detail);

describe("auth handler wrapper (service processes, JWKS over HTTP)", () => {
  const { env, remove } = testEnv();
  let jwks: Server;
  let jwksFetches = 0;
  let signing: CryptoKey;
  let other: CryptoKey;
  let greeter: Fixture | undefined;
  let front: Fixture | undefined;
  let client: RpcClient;
  let closeClient: (() => Promise<void>) | undefined;

  before(async () => {
    const pair = await generateKeyPair("RS256");
    signing = pair.privateKey;
    other = (await generateKeyPair("RS256")).privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    jwks = createServer((req, res) => {
      jwksFetches++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    const rules = [
      { service: "greeter", endpoint: "Greeter.Stream", public: true },
      { service: "greeter", endpoint: "Greeter.Fail", scopes: ["admin"] },
      { service: "*", endpoint: "Greeter.*" },
    ];
    const auth = JSON.stringify({ jwks: url, issuer: ISSUER, audience: AUDIENCE, rules });
    greeter = (await startFixture("production-service", { ...env, AUTH: auth }, [], [], READY_MS)).proc;
    front = (await startFixture("production-service", { ...env, AUTH: auth, SERVICE_NAME: "front", ONWARD: "greeter" }, [], [], READY_MS)).proc;
    ({ client, close: closeClient } = await openClient(env));
  });

  after(async () => {
    await closeClient?.();
    await Promise.all([stop(greeter), stop(front)]);
    await new Promise<void>((r) => (jwks ? jwks.close(() => r()) : r()));
    remove();
  });

  const call = (endpoint: string, md: Record<string, string> = {}, service = "greeter") =>
    client.call({ service, endpoint, method: Greeter.methods.hello }, { name: "x" }, { metadata: md });

  test("a valid token: the handler sees the verified claims on ctx.account", async () => {
    const t = await token(signing, { sub: "alice", scope: "read write", roles: ["user"] });
    const rsp = await call("Greeter.Hello", { authorization: `Bearer ${t}` });
    assert.deepEqual(JSON.parse(rsp.message), { id: "alice", scopes: ["read", "write"], roles: ["user"], aud: AUDIENCE });
    assert.ok(jwksFetches >= 1, "the key set came from the JWKS server");
  });

  test("no token: 401 naming the metadata to send", async () => {
    await assert.rejects(call("Greeter.Hello"), rejects(401, /needs a bearer token/));
  });

  test("a token signed by another key: 401", async () => {
    const t = await token(other, { sub: "mallory" });
    await assert.rejects(call("Greeter.Hello", { authorization: `Bearer ${t}` }), rejects(401, /signature/));
  });

  test("an expired token: 401", async () => {
    const t = await token(signing, { sub: "alice" }, { exp: Math.floor(Date.now() / 1000) - 60 });
    await assert.rejects(call("Greeter.Hello", { authorization: `Bearer ${t}` }), rejects(401, /expired/));
  });

  test("a token for another audience: 401", async () => {
    const t = await token(signing, { sub: "alice" }, { aud: "billing-api" });
    await assert.rejects(call("Greeter.Hello", { authorization: `Bearer ${t}` }), rejects(401, /"aud"/));
  });

  test("not a bearer token: 401", async () => {
    await assert.rejects(call("Greeter.Hello", { authorization: "Basic YWxpY2U6cHc=" }), rejects(401, /Bearer <token>/));
  });

  test("a rule needing a scope the token lacks: 403; with the scope: allowed", async () => {
    const user = await token(signing, { sub: "alice", scope: "read" });
    await assert.rejects(call("Greeter.Fail", { authorization: `Bearer ${user}` }), rejects(403, /alice may not call greeter Greeter\.Fail: needs scope admin/));
    const admin = await token(signing, { sub: "root", scp: ["admin"] });
    assert.equal((await call("Greeter.Fail", { authorization: `Bearer ${admin}` })).message, "admin x");
  });

  test("a public endpoint answers without a token", async () => {
    const out: string[] = [];
    for await (const m of client.serverStream({ service: "greeter", endpoint: "Greeter.Stream", method: Greeter.methods.stream }, { name: "anon" })) out.push(m.message);
    assert.deepEqual(out, ["public anon null"]);
  });

  test("forward: a handler calling onward passes the caller's token, so the next service sees the same account", async () => {
    const t = await token(signing, { sub: "carol", scope: "read" });
    const rsp = await client.call({ ...hello, service: "front" }, { name: "onward" }, { metadata: { authorization: `Bearer ${t}` } });
    assert.match(rsp.message, /^front saw \{"id":"carol".*onward said \{"id":"carol","scopes":\["read"\]/);
  });
});

describe("authorizer (in process)", () => {
  test("an SPKI public key and an HMAC secret verify; the rules decide most specific first and deny unmatched calls", async () => {
    const pair = await generateKeyPair("ES256");
    const pem = await exportSPKI(pair.publicKey);
    const rules = [
      { service: "*", endpoint: "*", roles: ["admin"] },
      { service: "greeter", endpoint: "Greeter.*", scopes: ["greet"] },
      { service: "greeter", endpoint: "Greeter.Ping", public: true },
      { service: "greeter*", endpoint: "Greeter.Hello", roles: ["ops"] },
    ];
    assert.equal(matchRule(rules, "greeter", "Greeter.Ping"), rules[2]);
    assert.equal(matchRule(rules, "greeter", "Greeter.Hello"), rules[1], "an exact service beats a service pattern, whatever the endpoint");
    assert.equal(matchRule(rules, "greeter2", "Greeter.Hello"), rules[3]);
    assert.equal(matchRule(rules, "billing", "Bill.Pay"), rules[0]);
    assert.equal(matchRule([{ service: "greeter" }], "billing", "Bill.Pay"), undefined);

    const a = newAuthorizer({ publicKey: pem, rules });
    const es = await new SignJWT({ scope: "greet" }).setProtectedHeader({ alg: "ES256" }).setSubject("dan").setExpirationTime("1m").sign(pair.privateKey);
    assert.equal((await a.authorize(`Bearer ${es}`, "greeter", "Greeter.Hello"))?.id, "dan");
    await assert.rejects(a.authorize(`Bearer ${es}`, "billing", "Bill.Pay"), rejects(403, /needs role admin/));
    assert.equal(await a.authorize(undefined, "greeter", "Greeter.Ping"), undefined);

    const secret = newAuthorizer({ secret: "s3cret", rules: [{ service: "greeter" }] });
    const hs = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("eve").sign(new TextEncoder().encode("s3cret"));
    assert.equal((await secret.authorize(`Bearer ${hs}`, "greeter", "Greeter.Hello"))?.id, "eve");
    await assert.rejects(secret.authorize(`Bearer ${hs}`, "billing", "Bill.Pay"), rejects(403, /no auth rule allows billing Bill\.Pay/));
    const forged = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("eve").sign(new TextEncoder().encode("guess"));
    await assert.rejects(secret.authorize(`Bearer ${forged}`, "greeter", "Greeter.Hello"), rejects(401, /signature/));
  });

  test("bad options are refused with what to do", () => {
    assert.throws(() => newAuthorizer({}), (e: unknown) => e instanceof MicroError && e.code === 400 && /give one of jwks/.test(e.detail));
    assert.throws(() => newAuthorizer({ secret: "a", jwks: "http://x" }), (e: unknown) => e instanceof MicroError && /one key source, got jwks and secret/.test(e.detail));
    assert.throws(() => newAuthorizer({ secret: "a", rules: [{ service: "x", scope: ["y"] } as never] }), (e: unknown) => e instanceof MicroError && /auth rule 1: unknown field "scope"/.test(e.detail));
    assert.throws(() => newAuthorizer({ secret: "a", rules: [{ public: true, roles: ["x"] }] }), (e: unknown) => e instanceof MicroError && /public rule cannot also require/.test(e.detail));
    assert.throws(() => newAuthorizer({ secret: "a", cacheSeconds: -1 }), (e: unknown) => e instanceof MicroError && /cacheSeconds must be a number of seconds/.test(e.detail));
    assert.throws(() => authClientWrapper({}), (e: unknown) => e instanceof MicroError && /needs token, getToken or forward/.test(e.detail));
  });

  test("authClientWrapper adds the bearer token; an authorization the call sets itself wins", async () => {
    const seen: (Record<string, string> | undefined)[] = [];
    let n = 0;
    const wrapped = authClientWrapper({ getToken: async () => `t${++n}` })(async (r: ClientRequest) => seen.push(r.options.metadata));
    const request = { service: "s", endpoint: "E.M", method: Greeter.methods.hello, body: {}, options: { metadata: { "x-a": "1" } } };
    await wrapped(request);
    await wrapped({ ...request, options: { metadata: { Authorization: "Bearer mine" } } });
    await wrapped({ ...request, options: {} });
    assert.deepEqual(seen, [{ "x-a": "1", authorization: "Bearer t1" }, { Authorization: "Bearer mine" }, { authorization: "Bearer t2" }]);
    assert.deepEqual(request.options.metadata, { "x-a": "1" }, "the caller's metadata object is not changed");
  });
});
