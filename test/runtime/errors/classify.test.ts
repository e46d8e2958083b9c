import { test } from "node:test";
import assert from "node:assert/strict";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { classify, isUnreachable, markFinal, type FailureKind } from "../../../src/runtime/errors/classify.js";

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });

/** [error, kind, retryable, nodeFailure, countsAgainstNode] */
const table: [string, unknown, FailureKind, boolean, boolean, boolean][] = [
  ["socket error", refused, "unreachable", true, true, true],
  ["socket error as a cause", new Error("wrapped", { cause: refused }), "unreachable", true, true, true],
  ["transport 503", new MicroError("micro.transport", 503, "down"), "unreachable", true, true, true],
  ["client 502 (no response)", new MicroError("micro.client", 502, "ended"), "unreachable", true, true, true],
  ["transport 408", new MicroError("micro.transport", 408, "deadline"), "timeout", true, true, true],
  ["runtime 504", new MicroError("micro.api", 504, "slow"), "timeout", true, true, true],
  ["application 503", new MicroError("greeter", 503, "busy"), "server", false, false, true],
  ["application 408", new MicroError("greeter", 408, "slow"), "timeout", false, false, true],
  ["application 500", new MicroError("greeter", 500, "boom"), "server", false, false, true],
  ["transport 400", new MicroError("micro.transport", 400, "bad frame"), "request", false, false, false],
  ["application 404", new MicroError("greeter", 404, "no user"), "request", false, false, false],
  ["cancelled", new MicroError("micro.client", 499, "cancelled"), "cancelled", false, false, false],
  ["a bug", new TypeError("bug"), "server", false, false, true],
  ["undefined", undefined, "server", false, false, true],
];

for (const [name, error, kind, retryable, nodeFailure, counts] of table) {
  test(`classify: ${name} → ${kind}`, () => {
    assert.deepEqual(classify(error), { kind, retryable, nodeFailure, countsAgainstNode: counts });
    assert.equal(isUnreachable(error), kind === "unreachable");
  });
}

test("classify: an error marked final is never retryable, whatever its kind", () => {
  const e = markFinal(new MicroError("micro.client", 503, "client is closed"));
  assert.equal(classify(e).retryable, false);
  assert.equal(classify(e).nodeFailure, true);
});
