/**
 * `micro bot` end to end, as real processes on loopback: a greeter service, the bot (`dist/micro.js bot`)
 * with both inputs — Slack through a local stand-in of Slack's Socket Mode and Web API, and HTTP — and a
 * command service (`micro.bot.deploy`) started and stopped mid-test. The same command cases run through
 * both inputs.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { MICRO_BIN, micro, startFixture, stop, testEnv, type Env, type Fixture } from "../cli/support.js";
import { spawnNode } from "../support/process.js";
import { APP_TOKEN, BOT_TOKEN, BOT_USER, SlackStandIn } from "../support/slack-standin.js";

const ALLOWED = "UALLOWED";
const STRANGER = "USTRANGER";

let env: Env;
let remove: () => void;
let greeter: Fixture;
let bot: Fixture;
let slack: SlackStandIn;
let httpUrl: string;
let channel = 0;

before(async () => {
  ({ env, remove } = testEnv());
  slack = new SlackStandIn();
  await slack.start();
  ({ proc: greeter } = await startFixture("greeter-service", env));
  bot = spawnNode(
    [MICRO_BIN, "bot", "--inputs", "slack,http", "--http_address", "127.0.0.1:0", "--allow_users", `${ALLOWED},alice`, "--timeout", "5s"],
    { ...env, MICRO_BOT_SLACK_APP_TOKEN: APP_TOKEN, MICRO_BOT_SLACK_BOT_TOKEN: BOT_TOKEN, MICRO_BOT_SLACK_API_URL: slack.apiUrl, MICRO_LOG_LEVEL: "info" },
  );
  const ready = await bot.started((e) => e.event === "listening");
  httpUrl = `http://${String(ready.http)}`;
  await slack.until("the bot's Socket Mode connection", () => slack.open > 0);
});

after(async () => {
  await stop(bot);
  await stop(greeter);
  await slack?.stop();
  remove?.();
});

/** Ask through one input as `user`; resolves to the bot's reply text. */
type Ask = (text: string, user?: string) => Promise<string>;

const viaSlack: Ask = async (text, user = ALLOWED) => {
  const where = `C${++channel}`;
  const envelope = slack.mention(user, where, text);
  const post = await slack.replyIn(where);
  // The acknowledgement goes over the socket, the reply over the Web API: either may arrive first.
  await slack.until(`the acknowledgement of envelope ${envelope}`, () => slack.acks.has(envelope));
  return post.text;
};

const viaHttp: Ask = async (text, user = "alice") => {
  const rsp = await fetch(`${httpUrl}/message`, { method: "POST", body: JSON.stringify({ user, channel: "ops", text }) });
  assert.equal(rsp.status, 200, await rsp.clone().text());
  return ((await rsp.json()) as { text: string }).text;
};

/** Poll `ask(text)` until the reply matches (the registry watch is asynchronous). */
async function eventually(ask: Ask, text: string, ok: (reply: string) => boolean, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms;
  let reply = "";
  while (Date.now() < deadline) {
    reply = await ask(text);
    if (ok(reply)) return reply;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`no matching reply to ${JSON.stringify(text)} within ${ms} ms; the last: ${reply}`);
}

for (const [name, ask, stranger] of [
  ["slack", viaSlack, STRANGER],
  ["http", viaHttp, "mallory"],
] as const) {
  describe(`the ${name} input`, () => {
    test("list services names the registered services", async () => {
      const reply = await ask("list services");
      assert.match(reply, /greeter/);
      assert.match(reply, /```/, "in a code block");
    });

    test("get service and health describe a service", async () => {
      const detail = await ask("get service greeter");
      assert.match(detail, /version 1\.0\.0/);
      assert.match(detail, /Greeter\.Hello/);
      assert.match(detail, /NODE\s+ADDRESS/);
      assert.match(await ask("health greeter"), /1 of 1 nodes of greeter healthy/);
      assert.match(await ask("get service nosuch"), /"code": 404/);
    });

    test("call reaches the service and replies with its JSON", async () => {
      const reply = await ask('call greeter Greeter.Hello {"name": "John"}');
      assert.match(reply, /"message": "Hello John"/);
      const failed = await ask('call greeter Greeter.Fail {"count": 409}');
      assert.match(failed, /"code": 409/);
      assert.match(failed, /failed with 409/);
    });

    test("bad JSON is named with the usage", async () => {
      assert.match(await ask('call greeter Greeter.Hello {"name": "Ann & Bo"}'), /Hello Ann & Bo/);
      assert.match(await ask("call greeter Greeter.Hello {name: John}"), /not valid JSON.*Usage: `call <service> <endpoint> <json>`/s);
    });

    test("a user not allowed to act is refused, and reading stays open", async () => {
      const refused = await ask('call greeter Greeter.Hello {"name": "Eve"}', stranger);
      assert.match(refused, /not allowed to run `call`/);
      assert.doesNotMatch(refused, /Hello Eve/);
      assert.match(await ask("publish events {}", stranger), /not allowed to run `publish`/);
      assert.match(await ask("list services", stranger), /greeter/);
    });

    test("echo, hello, help and an unknown command", async () => {
      assert.equal(await ask("echo spam and eggs"), "spam and eggs");
      assert.match(await ask("hello"), /Hello!/);
      const help = await ask("help");
      for (const c of ["list services", "get service <name>", "health <service>", "call <service> <endpoint> <json>", "publish <topic> <json>"]) assert.ok(help.includes(c), `help lists ${c}`);
      assert.match(await ask("frobnicate"), /I don't know `frobnicate`/);
    });
  });
}

test("Slack's escapes and typographic quotes are undone before the JSON is read", async () => {
  assert.match(await viaSlack("call greeter Greeter.Hello {\u201cname\u201d: \u201cAnn &amp; Bo &lt;3\u201d}"), /Hello Ann & Bo <3/);
});

test("publish reaches a subscriber", async () => {
  const { proc: subscriber } = await startFixture("greeter-service", { ...env, SERVICE_NAME: "listener", SUBSCRIBE: "bot.events" });
  try {
    assert.match(await viaSlack('publish bot.events {"deployed": "web"}'), /Published to `bot.events`/);
    const got = await subscriber.waitFor((e) => e.event === "message");
    assert.deepEqual(got.message, { deployed: "web" });
  } finally {
    await stop(subscriber);
  }
});

test("a command service started mid-test becomes a command, help lists it, and it goes when the service stops", async () => {
  const file = fileURLToPath(new URL("../fixtures/bot/deploy-command.js", import.meta.url));
  const deploy = spawnNode([file], env);
  try {
    await deploy.started((e) => e.event === "ready");
    const help = await eventually(viaSlack, "help", (r) => r.includes("deploy <app> <version>"));
    assert.match(help, /Deploy an app \(test double\) \(service micro\.bot\.deploy\)/);
    assert.equal(await viaSlack("deploy web v2"), `deployed web v2 for ${ALLOWED}`);
    assert.equal(await viaHttp("deploy api v3"), "deployed api v3 for alice");
    assert.match(await viaSlack("deploy web"), /:x: deploy: usage: deploy <app> <version>/);
    assert.match(await viaSlack("deploy web v2", STRANGER), /not allowed to run `deploy`/);
  } finally {
    await stop(deploy);
  }
  await eventually(viaHttp, "deploy web v2", (r) => r.includes("I don't know `deploy`"));
  assert.doesNotMatch(await viaHttp("help"), /deploy/);
});

test("acting commands are logged with who, where, what and the result", async () => {
  await viaSlack('call greeter Greeter.Hello {"name": "Audit"}');
  await bot.waitForStderr('"text":"call greeter Greeter.Hello {\\"name\\": \\"Audit\\"}"');
  const line = bot.stderr.split("\n").find((l) => l.includes('"Audit'))!;
  const entry = JSON.parse(line) as Record<string, unknown>;
  assert.equal(entry.audit, true);
  assert.equal(entry.user, ALLOWED);
  assert.match(String(entry.channel), /^C\d+$/);
  assert.equal(entry.command, "call");
  assert.equal(entry.result, "ok");
});

test("Slack dropping the socket: the bot reconnects and keeps answering", async () => {
  const before = slack.connections;
  slack.dropSockets();
  await slack.until("a new Socket Mode connection", () => slack.connections > before && slack.open > 0, 30_000);
  assert.match(await viaSlack("list services"), /greeter/);
});

test("direct messages are answered; the bot's own and other bots' messages are not", async () => {
  const where = `D${++channel}`;
  slack.direct(BOT_USER, where, "echo my own words");
  slack.direct("UOTHER", where, "echo a bot's words", { bot_id: "B2", subtype: "bot_message" });
  slack.direct(ALLOWED, where, "echo from a DM");
  assert.equal((await slack.replyIn(where)).text, "from a DM");
  // The three arrived in order on one socket: once the third is answered, the first two were read and dropped.
  assert.deepEqual(slack.posts.filter((p) => p.channel === where).map((p) => p.text), ["from a DM"]);
});

test("the http input answers bad requests in the error shape", async () => {
  const post = (body: string, path = "/message", method = "POST") => fetch(`${httpUrl}${path}`, { method, ...(method === "POST" ? { body } : {}) });
  let rsp = await post("{not json");
  assert.equal(rsp.status, 400);
  assert.match(((await rsp.json()) as { detail: string }).detail, /not valid JSON/);
  rsp = await post(JSON.stringify({ channel: "x", text: "help" }));
  assert.equal(rsp.status, 400);
  assert.deepEqual(Object.keys((await rsp.json()) as object).sort(), ["code", "detail", "id", "status"]);
  rsp = await post("", "/message", "GET");
  assert.equal(rsp.status, 405);
  rsp = await post("{}", "/nope");
  assert.equal(rsp.status, 404);
  rsp = await post("x".repeat(70_000));
  assert.equal(rsp.status, 413);
});

test("micro bot refuses a bad start with a clear message", async () => {
  const noTokens = await micro(["bot"], { ...env, MICRO_BOT_SLACK_APP_TOKEN: "", MICRO_BOT_SLACK_BOT_TOKEN: "" });
  assert.equal(noTokens.code, 2, noTokens.stderr);
  assert.match(noTokens.stderr, /needs an app-level token: --slack_app_token or MICRO_BOT_SLACK_APP_TOKEN/);
  const unknown = await micro(["bot", "--inputs", "irc"], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown input "irc": the inputs are slack and http/);
  const badToken = await micro(["bot"], { ...env, MICRO_BOT_SLACK_APP_TOKEN: APP_TOKEN, MICRO_BOT_SLACK_BOT_TOKEN: "xoxb-wrong", MICRO_BOT_SLACK_API_URL: slack.apiUrl });
  assert.equal(badToken.code, 1);
  assert.match(badToken.stderr, /Slack refused the bot token \(auth\.test\).*check MICRO_BOT_SLACK_BOT_TOKEN/);
});
