/**
 * A level set after the loggers were made (a scaffolded test sets MICRO_LOG_LEVEL after its imports, whose
 * modules made their loggers) still reaches them: through newService, or setLogLevel.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { logger, newService, setLogLevel } from "../../../src/index.js";

delete process.env.MICRO_LOG_LEVEL;
const early = logger("early-subscriber");

test("MICRO_LOG_LEVEL set after a logger was made applies once a service is made; setLogLevel reaches every logger", () => {
  assert.equal(early.level, "info");
  process.env.MICRO_LOG_LEVEL = "warn";
  newService({ name: "quiet" });
  assert.equal(early.level, "warn");
  assert.equal(early.isLevelEnabled("info"), false);
  setLogLevel("error");
  assert.equal(early.level, "error");
  assert.equal(logger("late").level, "error");
  setLogLevel("info");
});
