/**
 * The `micro` bin at its edges (issue 10): a request that is not a JSON object is refused before anything is
 * sent, with the message the gateway and the server use.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { micro, startFixture, stop, testEnv, type Env, type Fixture } from "./support.js";

let env: Env;
let remove: () => void;
let greeter: Fixture;

before(async () => {
  ({ env, remove } = testEnv());
  greeter = (await startFixture("greeter-service", env)).proc;
});

after(async () => {
  await stop(greeter);
  remove();
});

describe("a request that is not a JSON object", () => {
  test("micro call and micro stream refuse it (exit 2) with `request must be a JSON object` and what was given", async () => {
    for (const [args, stdin, given] of [
      [["call", "greeter", "Greeter.Hello", "[1,2]"], undefined, "an array [1,2]"],
      [["call", "greeter", "Greeter.Hello", '"John"'], undefined, 'a string "John"'],
      [["call", "greeter", "Greeter.Hello", "-"], "7", "a number 7"],
      [["stream", "greeter", "Greeter.Stream", "[1]"], undefined, "an array [1]"],
      [["stream", "greeter", "Greeter.Chat", '{"name":"a"}\n"b"'], undefined, 'a string "b"'],
    ] as const) {
      const r = await micro(args, env, stdin);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`request must be a JSON object, got ${given}`), `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
    }
    const ok = await micro(["call", "greeter", "Greeter.Hello", '{"name":"John"}'], env);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
