/** The bot's pieces on their own: reading a message, formatting replies, who may act, Slack's mention. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { codeBlock, table, truncate } from "../../src/bot/format.js";
import { normalizeSlackText, parseMessage } from "../../src/bot/parse.js";
import { newPolicy } from "../../src/bot/policy.js";
import { stripMention } from "../../src/bot/inputs/slack.js";
import type { BotCommand } from "../../src/bot/commands/command.js";

test("words split on white space, quotes group, and rest() keeps the typed text", () => {
  const m = parseMessage('call  greeter Greeter.Hello {"name": "John  Smith"}');
  assert.deepEqual(m.words.slice(0, 3), ["call", "greeter", "Greeter.Hello"]);
  assert.equal(m.rest(3), '{"name": "John  Smith"}');
  assert.equal(m.rest(0), 'call  greeter Greeter.Hello {"name": "John  Smith"}');
  assert.equal(m.rest(9), "");
  assert.deepEqual(parseMessage(`deploy "my app" 'v 2'`).words, ["deploy", "my app", "v 2"]);
  assert.deepEqual(parseMessage('say "unclosed quote').words, ["say", '"unclosed quote'], "an unclosed quote is kept as typed");
  assert.deepEqual(parseMessage("   ").words, []);
});

test("Slack's entities and typographic quotes are undone", () => {
  assert.equal(normalizeSlackText(" {\u201cn\u201d: \u2018a &amp; b &lt;c&gt;\u2019} "), "{\"n\": 'a & b <c>'}");
});

test("the bot's mention is removed from the start only", () => {
  assert.equal(stripMention("<@UBOT> list services", "UBOT"), "list services");
  assert.equal(stripMention("<@UBOT|micro>: help", "UBOT"), "help");
  assert.equal(stripMention("<@UOTHER> help", "UBOT"), "<@UOTHER> help");
  assert.equal(stripMention("echo <@UBOT>", "UBOT"), "echo <@UBOT>");
});

test("replies: code blocks cannot be ended early, tables line up, long output is cut with a note", () => {
  assert.equal(codeBlock("a```b"), "```\na`\u200b``b\n```");
  assert.equal(table(["ID", "ADDRESS"], [["n-1", "127.0.0.1:1"], ["node-22", "x"]]), "```\nID       ADDRESS\nn-1      127.0.0.1:1\nnode-22  x\n```");
  const long = codeBlock("x".repeat(10_000));
  const cut = truncate(long, 1000);
  assert.ok(cut.length <= 1000, `cut to ${cut.length}`);
  assert.match(cut, /output cut: the first \d+ of 10008 characters shown/);
  assert.equal((cut.match(/```/g) ?? []).length % 2, 0, "the code block is closed");
  assert.equal(truncate("short", 1000), "short");
});

const command = (acting: boolean): BotCommand => ({ name: acting ? "call" : "list", usage: "", description: "", acting, source: "builtin", run: async () => "" });
const from = (user: string, channel = "C1") => ({ user, channel, text: "" });

test("acting commands need an allowed user; reading is open; * allows everyone; channels limit answering", () => {
  const nobody = newPolicy();
  assert.match(nobody.refusal(command(true), from("U1"))!, /no user is allowed to act: start the bot with --allow_users/);
  assert.equal(nobody.refusal(command(false), from("U1")), undefined);
  const some = newPolicy(["U1"], ["C1", "D9"]);
  assert.equal(some.refusal(command(true), from("U1")), undefined);
  assert.match(some.refusal(command(true), from("U2"))!, /not allowed to run `call`/);
  assert.equal(some.answersIn("C1"), true);
  assert.equal(some.answersIn("C2"), false);
  assert.equal(newPolicy(["*"]).refusal(command(true), from("anyone")), undefined);
  assert.equal(newPolicy().answersIn("anything"), true);
});
