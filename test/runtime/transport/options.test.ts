import { test } from "node:test";
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { MicroError } from "../../../src/runtime/errors/index.js";
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";
import { resolveOptions } from "../../../src/runtime/transport/tcp/options.js";
import { TRANSPORT_ERROR_ID } from "../../../src/runtime/transport/index.js";
import { limitSlowClients } from "../../../src/api/backpressure.js";

const badOption = (name: RegExp) => (e: unknown) => e instanceof MicroError && e.code === 400 && name.test(e.detail);

test("a bad tcp transport option is a 400 MicroError with the transport's id, like every plugin's", () => {
  for (const bad of [{ maxMessageSize: 0 }, { keepaliveInterval: -1 }, { frameTimeout: Number.NaN }, { maxWindow: 2 ** 40 }]) {
    const name = new RegExp(`tcp transport option ${Object.keys(bad)[0]!} must be a positive number`);
    assert.throws(() => tcpTransport(bad), (e: unknown) => badOption(name)(e) && (e as MicroError).id === TRANSPORT_ERROR_ID);
  }
  assert.throws(() => resolveOptions({ initialWindow: 1024 * 1024, maxWindow: 64 * 1024 }), badOption(/initialWindow .* must not exceed maxWindow/));
  assert.equal(resolveOptions({ maxMessageSize: 1000.7 }).maxMessageSize, 1000);
  assert.equal(resolveOptions().maxMessageSize, 4 * 1024 * 1024);
});

test("a bad gateway backpressure option is a 400 MicroError too", () => {
  assert.throws(() => limitSlowClients({} as Server, { maxPipelined: 0 }), badOption(/gateway backpressure option maxPipelined must be a positive number, got 0/));
});
