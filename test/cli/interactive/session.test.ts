/**
 * `micro cli` in a real pseudo-terminal (tmux), against a real greeter service process on loopback with a
 * private local registry and HOME: Tab completes a service and an endpoint, a call prints the reply, Up
 * recalls it, multi-line JSON, Ctrl-C cancels a long server stream and clears a line but never ends the
 * session, an unknown service prints the error and the prompt carries on, Ctrl-D exits 0 and the history
 * file holds the entries.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { micro, MICRO_BIN, startFixture, stop, testEnv, type Env, type Fixture } from "../support.js";
import { Tmux } from "./tmux.js";

let env: Env;
let remove: () => void;
let greeter: Fixture;
let home: string;
let tmux: Tmux;

/** The text after the last occurrence of `marker` (empty when absent). */
function after_(screen: string, marker: string): string {
  const at = screen.lastIndexOf(marker);
  return at < 0 ? "" : screen.slice(at + marker.length);
}

/** The last line of the screen. */
const lastLine = (screen: string): string => screen.split("\n").pop() ?? "";

/** Occurrences of `text` on the screen. */
const count = (screen: string, text: string): number => screen.split(text).length - 1;

before(async () => {
  ({ env, remove } = testEnv());
  home = mkdtempSync(join(tmpdir(), "micro-cli-home-"));
  greeter = (await startFixture("greeter-service", env)).proc;
  tmux = new Tmux({ ...env, HOME: home });
  await tmux.start([process.execPath, MICRO_BIN, "cli"]);
  await tmux.waitFor((s) => lastLine(s) === "micro>", "the prompt");
});

after(async () => {
  await tmux?.close();
  await stop(greeter);
  remove();
  rmSync(home, { recursive: true, force: true });
});

describe("micro cli in a terminal", () => {
  test("Tab completes a service and an endpoint; the call prints the reply", async () => {
    await tmux.type("call gr");
    await tmux.keys("Tab");
    await tmux.waitFor((s) => lastLine(s) === "micro> call greeter", "the service completed");
    await tmux.type("Greeter.He");
    await tmux.keys("Tab");
    await tmux.waitFor((s) => lastLine(s) === "micro> call greeter Greeter.Hello", "the endpoint completed");
    await tmux.type(`{"name": "John"}`);
    await tmux.keys("Enter");
    const screen = await tmux.waitFor((s) => after_(s, `"message": "Hello John"`).includes("\n}\nmicro>"), "the reply and the prompt");
    assert.equal(count(screen, "Hello John"), 1);
  });

  test("Up recalls the call from the history", async () => {
    await tmux.keys("Up");
    await tmux.waitFor((s) => lastLine(s) === `micro> call greeter Greeter.Hello {"name": "John"}`, "the recalled entry");
    await tmux.keys("Enter");
    await tmux.waitFor((s) => count(s, `"message": "Hello John"`) === 2 && lastLine(s) === "micro>", "the second reply");
  });

  test("JSON spanning lines continues under the ... prompt until its braces balance", async () => {
    await tmux.type("call greeter Greeter.Hello {");
    await tmux.keys("Enter");
    await tmux.waitFor((s) => lastLine(s) === "...", "the continuation prompt");
    await tmux.type(`  "name": "multi {line}",`);
    await tmux.keys("Enter");
    await tmux.type(`  "loud": true`);
    await tmux.keys("Enter");
    await tmux.waitFor((s) => lastLine(s) === "...", "the continuation prompt again");
    await tmux.type("}");
    await tmux.keys("Enter");
    await tmux.waitFor((s) => after_(s, `"message": "HELLO MULTI {LINE}"`).includes("\nmicro>"), "the reply to the multi-line call");
  });

  test("Ctrl-C cancels a long server stream and the prompt returns", async () => {
    await tmux.type(`stream greeter Greeter.Stream {"name": "endless"}`);
    await tmux.keys("Enter");
    await tmux.waitFor((s) => s.includes(`{"message":"endless 2"}`), "the streamed messages");
    await tmux.keys("C-c");
    const screen = await tmux.waitFor((s) => after_(s, `{"message":"endless 2"}`).includes("\nmicro>"), "the prompt after the cancel");
    const error = JSON.parse(after_(screen, `{"message":"endless 2"}`).split("\n").find((l) => l.startsWith("{"))!);
    assert.equal(error.code, 499);
    assert.deepEqual(Object.keys(error).sort(), ["code", "detail", "id", "status"]);
    // The session still works.
    await tmux.type("list services");
    await tmux.keys("Enter");
    await tmux.waitFor((s) => after_(s, "micro> list services").startsWith("\ngreeter\n") && lastLine(s) === "micro>", "list services after the cancel");
  });

  test("an unknown service prints the error as one-shot commands do, and the prompt carries on", async () => {
    await tmux.type(`call nosuch Foo.Bar {}`);
    await tmux.keys("Enter");
    const screen = await tmux.waitFor((s) => after_(s, "micro> call nosuch Foo.Bar {}").includes("\nmicro>"), "the error and the prompt");
    const error = JSON.parse(after_(screen, "micro> call nosuch Foo.Bar {}").trim().split("\n")[0]!);
    assert.deepEqual(Object.keys(error).sort(), ["code", "detail", "id", "status"]);
    assert.match(error.detail, /nosuch/);
    await tmux.type("get service greeter");
    await tmux.keys("Enter");
    await tmux.waitFor((s) => after_(s, "micro> get service greeter").includes("Endpoint: Greeter.Hello"), "a command after the error");
  });

  test("Ctrl-C clears a typed line; on an empty prompt, pressed twice, it does not end the session", async () => {
    await tmux.type("list serv");
    await tmux.keys("C-c");
    await tmux.waitFor((s) => s.includes("micro> list serv^C\nmicro>") && lastLine(s) === "micro>", "the cleared line");
    await tmux.keys("C-c");
    await tmux.keys("C-c");
    await tmux.waitFor((s) => count(s, "(Ctrl-D or `exit` leaves the prompt)") === 2 && lastLine(s) === "micro>", "two hints");
    assert.doesNotMatch(await tmux.screen(), /EXIT=/);
    await tmux.type("help");
    await tmux.keys("Enter");
    await tmux.waitFor((s) => after_(s, "micro> help").includes("call <service> <endpoint> [request]") && lastLine(s) === "micro>", "help after Ctrl-C");
  });

  test("Ctrl-D exits 0 and the history file holds the entries", async () => {
    await tmux.keys("C-d");
    const screen = await tmux.waitFor((s) => /^EXIT=\d+$/m.test(s), "the end of micro cli");
    assert.match(screen, /^micro>\s*\nEXIT=0$/m);
    const history = readFileSync(join(home, ".micro_history"), "utf8").split("\n");
    assert.ok(history.includes(`call greeter Greeter.Hello {"name": "John"}`), history.join("\n"));
    // The multi-line entry is one history line (its line breaks as spaces), not three fragments.
    assert.ok(history.includes(`call greeter Greeter.Hello {   "name": "multi {line}",   "loud": true }`), history.join("\n"));
    assert.ok(!history.includes("}"), history.join("\n"));
    assert.ok(!history.includes("list serv"), "a line cleared with Ctrl-C is not history");
    assert.equal(history.at(-2), "help");
  });
});

describe("micro cli with piped input", () => {
  test("runs the entries in order, waits for the last one, and exits 0 at the end of the input", async () => {
    const r = await micro(["cli"], { ...env, HOME: home }, `list services\ncall greeter Greeter.Hello {\n  "name": "Piped"\n}\ncall nosuch Foo.Bar\nnew x\ncall greeter Greeter.Slow {"count": 200}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^greeter\n\{\n {2}"message": "Hello Piped"\n\}\n\{\n {2}"message": "slow"\n\}\n$/);
    const [unknown, refused] = r.stderr.trim().split("\n");
    assert.deepEqual(Object.keys(JSON.parse(unknown!)).sort(), ["code", "detail", "id", "status"]);
    assert.match(refused!, /^micro: `new` is not available at the prompt: run `micro new` from a shell/);
  });

  test("stdin (-) is refused at the prompt, and an entry left open at the end is reported, not run", async () => {
    const r = await micro(["cli"], { ...env, HOME: home }, `call greeter Greeter.Hello -\ncall greeter Greeter.Hello {"name":\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /there is no stdin to read here \(-\)/);
    assert.match(r.stderr, /the input ended inside an unfinished entry/);
  });
});
