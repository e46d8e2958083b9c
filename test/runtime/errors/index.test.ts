import { test } from "node:test";
import assert from "node:assert/strict";
import { MicroError, fromError, notFound, parse } from "../../../src/runtime/errors/index.js";

test("a MicroError survives its JSON form", () => {
  const original = notFound("greeter", "no such user");
  const back = parse(JSON.stringify(original));
  assert.ok(back instanceof MicroError);
  assert.deepEqual(back.toJSON(), { id: "greeter", code: 404, detail: "no such user", status: "Not Found" });
});

test("parse turns text that is not an error into an internal error", () => {
  const e = parse("boom");
  assert.equal(e.code, 500);
  assert.equal(e.detail, "boom");
});

test("fromError keeps MicroErrors and wraps anything else as internal", () => {
  const own = MicroError.conflict("x", "taken");
  assert.equal(fromError(own), own);
  const wrapped = fromError(new TypeError("bad thing"), "svc");
  assert.equal(wrapped.code, 500);
  assert.equal(wrapped.detail, "bad thing");
  assert.equal(wrapped.id, "svc");
});
