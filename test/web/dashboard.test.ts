/**
 * `micro web` in a real browser: the real bin, real service processes (the greeter fixture, a subscriber, a
 * plain HTTP web app with a WebSocket echo) on loopback, one headless Chromium driving the page.
 * MICRO_UPDATE_SCREENSHOT=1 also writes the README's screenshot, docs/web-dashboard.png.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { localRegistry, type Registry, type ServiceRecord } from "../../src/index.js";
import { micro, startFixture, stop, testEnv, type Env, type Fixture } from "../cli/support.js";
import { openBrowser, startWeb, type Browser } from "./support.js";

let env: Env;
let remove: () => void;
const procs: Fixture[] = [];
let listener: Fixture;
let web: string;
let browser: Browser;
let registry: Registry;
const dialogs: string[] = [];

// What page.evaluate's functions use in the browser (the tests compile without the DOM library).
declare const location: { host: string };
declare const document: { cookie: string; body: unknown };
declare function getComputedStyle(element: unknown): { backgroundColor: string };

const XSS_NAME = "<img src=x onerror=alert(1)>";
const XSS_META = "<script>alert(2)</script>";
const probe: ServiceRecord = {
  name: XSS_NAME,
  version: "<b>1</b>",
  endpoints: [{ name: "Probe.Run", metadata: { note: XSS_META }, request: { name: "Req", type: "x.Req", values: [{ name: "<i>field</i>", type: "string" }] } }],
  nodes: [{ id: "probe-1", address: "127.0.0.1:1", metadata: { note: XSS_META } }],
};

before(async () => {
  ({ env, remove } = testEnv());
  const [g, l, app] = await Promise.all([
    startFixture("greeter-service", env),
    startFixture("greeter-service", { ...env, SERVICE_NAME: "listener", SUBSCRIBE: "orders" }),
    startFixture("http-service", { ...env, SERVICE_NAME: "web.echo" }),
  ]);
  listener = l.proc;
  procs.push(g.proc, l.proc, app.proc);
  const w = await startWeb(env);
  procs.push(w.proc);
  web = w.url;
  registry = localRegistry({ address: env.MICRO_REGISTRY_ADDRESS });
  browser = await openBrowser();
  browser.page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
});

after(async () => {
  await browser?.close();
  await registry?.deregister(probe).catch(() => undefined);
  await registry?.close();
  await Promise.all(procs.map((p) => stop(p)));
  remove();
});

const page = () => browser.page;
const row = (name: string) => page().locator(`tr[data-service="${name}"]`);

describe("the dashboard in a browser", () => {
  test("services appear and vanish live through the registry's watch", () =>
    browser.step("services-live", async () => {
      await page().goto(web);
      await row("greeter").waitFor();
      await row("greeter").locator(".health.ok", { hasText: "1/1 ok" }).waitFor();
      assert.match(await row("greeter").innerText(), /greeter\s+1\.0\.0\s+1\s+1\/1 ok/);
      const started = Date.now();
      const late = await startFixture("greeter-service", { ...env, SERVICE_NAME: "late" });
      procs.push(late.proc);
      const ready = Date.now();
      await row("late").waitFor({ timeout: 30_000 });
      const shown = Date.now();
      await stop(late.proc);
      const stopped = Date.now();
      await row("late").waitFor({ state: "detached", timeout: 30_000 });
      // Printed, not asserted (tests do not assert timings): the issue asks for both within 2 s.
      console.log(`new service shown ${shown - ready} ms after it was ready (start took ${ready - started} ms); gone ${Date.now() - stopped} ms after it stopped`);
      // The web app is listed with its link.
      assert.equal(await page().locator('.apps a[href="/echo/"]').count(), 1);
      // The page follows the system's light/dark preference.
      const background = () => page().evaluate(() => getComputedStyle(document.body).backgroundColor);
      await page().emulateMedia({ colorScheme: "dark" });
      assert.equal(await background(), "rgb(15, 18, 22)");
      await page().emulateMedia({ colorScheme: "light" });
      assert.equal(await background(), "rgb(255, 255, 255)");
    }));

  test("a service's page shows its nodes, endpoints with kinds and fields, and subscribers", () =>
    browser.step("service-detail", async () => {
      await page().goto(`${web}/#/service/listener`);
      await page().locator(".topics li", { hasText: "orders" }).waitFor();
      await page().goto(`${web}/#/service/greeter`);
      const hello = page().locator('article[data-endpoint="Greeter.Hello"]');
      await hello.waitFor();
      const text = await hello.innerText();
      assert.match(text, /Greeter\.Hello\s+unary/);
      assert.match(text, /name\s+string/);
      assert.match(text, /count\s+int32/);
      assert.match(text, /loud\s+bool/);
      assert.match(await page().locator('article[data-endpoint="Greeter.Stream"]').innerText(), /server stream/);
      assert.match(await page().locator('article[data-endpoint="Greeter.Chat"]').innerText(), /bidi stream/);
      const nodes = await page().locator("table.nodes").innerText();
      assert.match(nodes, /greeter-\S+\s+127\.0\.0\.1:\d+\s+1\.0\.0/);
      assert.match(nodes, /protocol\s+micro/);
    }));

  test("a call from the form shows Hello John with its latency, and the history replays it", () =>
    browser.step("call-form", async () => {
      await page().goto(`${web}/#/service/greeter`);
      await page().getByRole("button", { name: "Call Greeter.Hello" }).click();
      // Keyboard only: focus the field, type, submit with Enter.
      await page().locator("#call-Greeter-Hello-name").focus();
      await page().keyboard.type("John");
      assert.deepEqual(JSON.parse(await page().locator("#call-Greeter-Hello-raw").inputValue()), { name: "John" });
      await page().keyboard.press("Enter");
      await page().locator(".reply", { hasText: "Hello John" }).waitFor();
      assert.match(await page().locator(".latency").innerText(), /^[\d.]+ ms$/);
      if (process.env.MICRO_UPDATE_SCREENSHOT) {
        // The top of the page down to the reply.
        const box = (await page().locator('article[data-endpoint="Greeter.Hello"]').boundingBox())!;
        await page().screenshot({ path: fileURLToPath(new URL("../../../docs/web-dashboard.png", import.meta.url)), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(box.y + box.height + 24) } });
      }
      // An error shows as {id, code, detail, status}.
      await page().getByRole("button", { name: "Call Greeter.Fail" }).click();
      await page().locator("#call-Greeter-Fail-raw").fill('{"count": 404}');
      await page().locator('article[data-endpoint="Greeter.Fail"]').getByRole("button", { name: "Send request" }).click();
      const error = JSON.parse(await page().locator('article[data-endpoint="Greeter.Fail"] pre.error').innerText()) as unknown;
      assert.deepEqual(error, { id: "greeter", code: 404, detail: "failed with 404", status: "Not Found" });
      // The history has both; replaying the first runs it again on the service's page.
      await page().goto(`${web}/#/history`);
      const entries = page().locator(".history li");
      await entries.first().waitFor();
      assert.ok((await entries.count()) >= 2);
      await page().getByRole("button", { name: "Replay Greeter.Hello" }).first().click();
      await page().locator('article[data-endpoint="Greeter.Hello"] .reply', { hasText: "Hello John" }).waitFor();
    }));

  test("a server stream shows its messages as they arrive and stops; a bidi stream takes messages one by one", () =>
    browser.step("streams", async () => {
      await page().goto(`${web}/#/service/greeter`);
      const stream = page().locator('article[data-endpoint="Greeter.Stream"]');
      await page().getByRole("button", { name: "Call Greeter.Stream" }).click();
      await page().locator("#call-Greeter-Stream-raw").fill('{"name": "endless", "count": 3}');
      await stream.getByRole("button", { name: "Start stream" }).click();
      await stream.locator(".messages li").nth(2).waitFor();
      assert.deepEqual(await stream.locator(".messages li").allInnerTexts(), [0, 1, 2].map((i) => JSON.stringify({ message: `endless ${i}` }, null, 2)));
      // The stream is still open (the handler waits for the end of the call): Stop ends it.
      await stream.getByRole("button", { name: "Stop" }).click();
      await stream.getByRole("button", { name: "Start stream" }).and(page().locator(":enabled")).waitFor();

      const chat = page().locator('article[data-endpoint="Greeter.Chat"]');
      await page().getByRole("button", { name: "Call Greeter.Chat" }).click();
      await chat.getByRole("button", { name: "Open stream" }).click();
      const send = chat.getByRole("button", { name: "Send message" });
      await send.and(page().locator(":enabled")).waitFor();
      for (const name of ["a", "b"]) {
        await page().locator("#call-Greeter-Chat-raw").fill(JSON.stringify({ name }));
        await send.click();
        await chat.locator(".messages li", { hasText: `echo ${name}` }).waitFor();
      }
      await chat.getByRole("button", { name: "End requests" }).click();
      await chat.getByRole("button", { name: "Open stream" }).and(page().locator(":enabled")).waitFor();
      assert.equal(await chat.locator(".messages li").count(), 2);
      assert.equal(await chat.locator("pre.error").count(), 0);
    }));

  test("a publish from the page reaches a subscriber process; a topic watch shows a message another process published", () =>
    browser.step("events", async () => {
      await page().goto(`${web}/#/events`);
      await page().getByLabel("Topic").first().fill("orders");
      await page().locator("#pub-message").fill('{"id": 42}');
      await page().getByRole("button", { name: "Publish" }).click();
      await page().locator(".published", { hasText: "published to orders" }).waitFor();
      const got = await listener.waitFor((e) => e.event === "message" && e.topic === "orders");
      assert.deepEqual(got.message, { id: 42 });

      await page().locator("#watch-topic").fill("news");
      await page().getByRole("button", { name: "Watch", exact: true }).click();
      await page().locator(".watch-state", { hasText: "watching news" }).waitFor();
      const published = await micro(["publish", "news", '{"n": 7}'], env);
      assert.equal(published.code, 0, published.stderr);
      await page().locator(".received li", { hasText: '"n": 7' }).waitFor();
      await page().getByRole("button", { name: "Stop watching" }).click();
    }));

  test("the console runs list services, with the history on the arrow keys", () =>
    browser.step("console", async () => {
      await page().goto(`${web}/#/console`);
      const input = page().getByLabel("micro");
      await input.fill("list services");
      await input.press("Enter");
      await page().locator(".console-output", { hasText: /\$ list services\s+greeter\s+listener\s+web\.echo/ }).waitFor();
      await input.fill("get service greeter");
      await input.press("Enter");
      await page().locator(".console-output", { hasText: "Endpoint: Greeter.Hello" }).waitFor();
      await input.press("ArrowUp");
      assert.equal(await input.inputValue(), "get service greeter");
      await input.press("ArrowUp");
      assert.equal(await input.inputValue(), "list services");
    }));

  test("a web app and its WebSocket work through the proxy, which forwards neither the dashboard's cookies nor its credential", () =>
    browser.step("web-app", async () => {
      await page().goto(`${web}/`);
      await row("greeter").waitFor();
      const result = await page().evaluate(async () => {
        const http = (await (await fetch("/echo/x?y=1")).json()) as { url: string; cookie: string | null };
        const echo = await new Promise<string>((resolve, reject) => {
          const ws = new WebSocket(`ws://${location.host}/echo/socket`);
          ws.onopen = () => ws.send("hi");
          ws.onmessage = (e) => (resolve(String(e.data)), ws.close());
          ws.onerror = () => reject(new Error("websocket failed"));
        });
        return { http, echo, cookie: document.cookie };
      });
      assert.equal(result.echo, "echo hi /echo/socket");
      assert.equal(result.http.url, "/echo/x?y=1");
      assert.equal(result.http.cookie, null, "the session cookie is the dashboard's own");
    }));

  test("names, metadata and fields from other processes render as text and run nothing", () =>
    browser.step("xss", async () => {
      await registry.register(probe, { ttl: 60 });
      await page().goto(`${web}/`);
      const link = page().getByRole("link", { name: XSS_NAME });
      await link.waitFor();
      await link.click();
      await page().locator(".service-name", { hasText: XSS_NAME }).waitFor();
      const body = await page().locator("main").innerText();
      assert.ok(body.includes(XSS_META), "the metadata shows as text");
      assert.ok(body.includes("<i>field</i>"), "the field name shows as text");
      assert.ok(body.includes("<b>1</b>"), "the version shows as text");
      assert.equal(await page().locator("main img, main script, main i, main b:not(h2 *)").count(), 0, "no element came from remote data");
      // Console output is text too.
      await page().goto(`${web}/#/console`);
      await page().getByLabel("micro").fill("list services");
      await page().getByLabel("micro").press("Enter");
      await page().locator(".console-output", { hasText: XSS_NAME }).waitFor();
      assert.deepEqual(dialogs, [], "no dialog opened");
      await registry.deregister(probe);
    }));
});

describe("the HTTP API and its protections", () => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${web}${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });

  test("services, service, health, call, publish and console answer scripts", async () => {
    const list = (await (await fetch(`${web}/api/services`)).json()) as { name: string; app?: string }[];
    assert.deepEqual(
      list.filter((s) => ["greeter", "web.echo"].includes(s.name)),
      [
        { name: "greeter", versions: ["1.0.0"], nodes: 1 },
        { name: "web.echo", versions: ["1.0.0"], nodes: 1, app: "/echo/" },
      ],
    );
    const records = (await (await fetch(`${web}/api/services/greeter`)).json()) as ServiceRecord[];
    assert.ok(records[0]!.endpoints.some((e) => e.name === "Greeter.Hello"));
    assert.equal((await fetch(`${web}/api/services/nope`)).status, 404);
    const health = (await (await fetch(`${web}/api/health/greeter`)).json()) as { status: string }[];
    assert.deepEqual(health.map((h) => h.status), ["ok"]);
    const call = (await (await post("/api/call", { service: "greeter", endpoint: "Greeter.Hello", request: { name: "Ann" }, metadata: { "x-user": "ann" } })).json()) as { reply: unknown; ms: number };
    assert.deepEqual(call.reply, { message: "Hello Ann (ann)" });
    assert.equal(typeof call.ms, "number");
    const failed = await post("/api/call", { service: "greeter", endpoint: "Greeter.Fail", request: { count: 409 } });
    assert.equal(failed.status, 409);
    assert.deepEqual(((await failed.json()) as { error: unknown }).error, { id: "greeter", code: 409, detail: "failed with 409", status: "Conflict" });
    const notObject = await post("/api/call", { service: "greeter", endpoint: "Greeter.Hello", request: [1] });
    assert.equal(notObject.status, 400);
    assert.match(((await notObject.json()) as { detail: string }).detail, /request must be a JSON object, got an array/);
    assert.deepEqual(await (await post("/api/publish", { topic: "orders", message: { id: 7 } })).json(), { published: "orders" });
    await listener.waitFor((e) => e.event === "message" && (e.message as { id?: number }).id === 7);
    const healthLine = (await (await post("/api/console", { line: "health greeter" })).json()) as { output: string };
    assert.match(healthLine.output, /^NODE\tADDRESS\tVERSION\tSTATUS\ngreeter-\S+\t127\.0\.0\.1:\d+\t1\.0\.0\tok$/);
    const bad = await post("/api/console", { line: "frobnicate" });
    assert.equal(bad.status, 400);
  });

  test("a stream over WebSocket and a watch over SSE, for scripts", async () => {
    const { WebSocket } = await import("ws");
    const messages = await new Promise<unknown[]>((resolve, reject) => {
      const got: unknown[] = [];
      const ws = new WebSocket(`${web.replace(/^http/, "ws")}/api/stream?service=greeter&endpoint=Greeter.Stream`);
      ws.on("open", () => ws.send(JSON.stringify({ name: "s", count: 2 })));
      ws.on("message", (d) => got.push(JSON.parse(d.toString())));
      ws.on("close", (code) => (code === 1000 ? resolve(got) : reject(new Error(`closed ${code}`))));
      ws.on("error", reject);
    });
    assert.deepEqual(messages, [{ message: "s 0" }, { message: "s 1" }]);
    const ac = new AbortController();
    const rsp = await fetch(`${web}/api/watch/services`, { signal: ac.signal });
    assert.equal(rsp.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = rsp.body!.getReader();
    let text = "";
    while (!text.includes("event: services")) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    await reader.cancel().catch(() => undefined);
  });

  test("cross-site requests are refused: a foreign Origin, a browser session without its CSRF token, a foreign Host", async () => {
    const hello = { service: "greeter", endpoint: "Greeter.Hello", request: {} };
    const foreign = await post("/api/call", hello, { origin: "http://evil.example" });
    assert.equal(foreign.status, 403);
    const session = await fetch(`${web}/api/session`);
    const cookie = session.headers.get("set-cookie")!.split(";", 1)[0]!;
    const { csrf } = (await session.json()) as { csrf: string };
    assert.equal((await post("/api/call", hello, { cookie })).status, 403, "a session without its token");
    assert.equal((await post("/api/call", hello, { cookie, "x-csrf-token": "x".repeat(csrf.length) })).status, 403, "a wrong token");
    assert.equal((await post("/api/call", hello, { cookie, "x-csrf-token": csrf, origin: web })).status, 200, "the session's token, same origin");
    assert.equal((await post("/api/publish", { topic: "orders", message: {} }, { origin: web })).status, 403, "a browser request without a session");
    // fetch does not let a script set Host: node:http does.
    const rebound = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(web);
      request({ hostname, port, path: "/api/services", headers: { host: `evil.example:${port}` } }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject).end();
    });
    assert.equal(rebound, 403, "a DNS-rebound name");
    const { WebSocket } = await import("ws");
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${web.replace(/^http/, "ws")}/api/stream?service=greeter&endpoint=Greeter.Stream`, { origin: "http://evil.example" });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => resolve(-1));
    });
    assert.equal(status, 403);
  });
});

describe("auth", () => {
  test("with --auth token every request needs the token, the page opens with it, and apps never see it", async () => {
    const w = await startWeb(env, ["--auth", "token"]);
    procs.push(w.proc);
    assert.ok(w.token && w.token.length >= 20, "a generated token is printed");
    await w.proc.waitForStderr(`generated token ${w.token}`);
    for (const path of ["/", "/api/services", "/api/watch/services", "/echo/x"]) assert.equal((await fetch(`${w.url}${path}`)).status, 401, path);
    assert.equal((await fetch(`${w.url}/api/services`, { headers: { authorization: "Bearer wrong" } })).status, 401);
    assert.equal((await fetch(`${w.url}/api/services`, { headers: { authorization: `Bearer ${w.token}` } })).status, 200);
    const { WebSocket } = await import("ws");
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${w.url.replace(/^http/, "ws")}/api/stream?service=greeter&endpoint=Greeter.Stream`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => resolve(-1));
    });
    assert.equal(status, 401);
    const rsp = await fetch(`${w.url}/echo/x`, { headers: { authorization: `Bearer ${w.token}`, cookie: "theirs=1" } });
    const app = (await rsp.json()) as { authorization: unknown; cookie: unknown };
    assert.deepEqual({ authorization: app.authorization, cookie: app.cookie }, { authorization: null, cookie: "theirs=1" }, `${rsp.status} ${JSON.stringify(app)}`);

    await browser.step("auth-token", async () => {
      await page().goto(`${w.url}/?token=${w.token}`);
      await row("greeter").waitFor();
      assert.equal(new URL(page().url()).search, "", "the token leaves the address bar");
      const seen = await page().evaluate(async () => {
        const ws = await new Promise<string>((resolve, reject) => {
          const s = new WebSocket(`ws://${location.host}/echo/socket`);
          s.onopen = () => s.send("headers?");
          s.onmessage = (e) => (resolve(String(e.data)), s.close());
          s.onerror = () => reject(new Error("websocket failed"));
        });
        return JSON.parse(ws) as { authorization: unknown; cookie: unknown };
      });
      assert.equal(seen.authorization, null);
      assert.ok(!String(seen.cookie ?? "").includes("micro_web"), `the app saw ${String(seen.cookie)}`);
    });
    await stop(w.proc);
  });

  test("with --auth basic every request needs the user and password", async () => {
    const w = await startWeb(env, ["--auth", "basic", "--auth_basic", "ann:s3cret"]);
    procs.push(w.proc);
    const refused = await fetch(`${w.url}/api/services`);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") ?? "", /^Basic realm="micro web"/);
    const wrong = `Basic ${Buffer.from("ann:nope").toString("base64")}`;
    assert.equal((await fetch(`${w.url}/`, { headers: { authorization: wrong } })).status, 401);
    const right = `Basic ${Buffer.from("ann:s3cret").toString("base64")}`;
    assert.equal((await fetch(`${w.url}/`, { headers: { authorization: right } })).status, 200);
    const app = (await (await fetch(`${w.url}/echo/x`, { headers: { authorization: right } })).json()) as { authorization: unknown };
    assert.equal(app.authorization, null, "the app does not get the dashboard's credential");
    await stop(w.proc);
  });

  test("binding off loopback without auth warns", async () => {
    // 192.0.2.1 (TEST-NET-1) is never a local address: the warning comes first, then the bind fails.
    const r = await micro(["web", "--address", "192.0.2.1:0"], env);
    assert.match(r.stderr, /warning: listening on 192\.0\.2\.1:0 \(not loopback\) without --auth/);
    assert.notEqual(r.code, 0);
  });

  test("--auth basic needs user:password", async () => {
    const r = await micro(["web", "--auth", "basic"], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--auth basic needs --auth_basic user:password/);
  });
});
