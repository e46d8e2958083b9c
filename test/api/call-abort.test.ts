import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { test } from "node:test";
import { callAbort } from "../../src/api/call-abort.js";

/** A response on a connection: both only emit `close`, as far as callAbort is concerned. */
function connection(): { socket: EventEmitter & { destroyed: boolean }; response(): ServerResponse & EventEmitter } {
  const socket = Object.assign(new EventEmitter(), { destroyed: false });
  return { socket, response: () => Object.assign(new EventEmitter(), { socket, writableFinished: false }) as unknown as ServerResponse & EventEmitter };
}

test("call abort: one signal serves a connection's calls one after another", () => {
  const c = connection();
  const a = callAbort(c.response());
  a.release();
  const b = callAbort(c.response());
  assert.equal(b.signal, a.signal);
  b.release();
});

test("call abort: calls in flight at once on one connection get different signals", () => {
  const c = connection();
  const a = callAbort(c.response());
  const b = callAbort(c.response());
  assert.notEqual(a.signal, b.signal);
  b.abort(new Error("gateway timeout"));
  assert.equal(b.signal.aborted, true);
  assert.equal(a.signal.aborted, false);
  a.release();
  b.release();
});

test("call abort: the connection closing aborts the call in flight, not a settled one", () => {
  const idle = connection();
  const settled = callAbort(idle.response());
  settled.release();
  idle.socket.emit("close");
  assert.equal(settled.signal.aborted, false);

  const busy = connection();
  const inFlight = callAbort(busy.response());
  busy.socket.emit("close");
  assert.equal(inFlight.signal.aborted, true);
  assert.match(String((inFlight.signal.reason as Error).message), /disconnected/);
});

test("call abort: a second call's own signal aborts when its response closes unfinished", () => {
  const c = connection();
  const first = callAbort(c.response());
  const res = c.response();
  const second = callAbort(res);
  res.emit("close");
  assert.equal(second.signal.aborted, true);
  assert.equal(first.signal.aborted, false);
  first.release();
  second.release();
});

test("call abort: after a timeout the connection's next call gets a fresh signal", () => {
  const c = connection();
  const a = callAbort(c.response());
  a.abort(new Error("gateway timeout"));
  a.release();
  const b = callAbort(c.response());
  assert.notEqual(b.signal, a.signal);
  assert.equal(b.signal.aborted, false);
  b.release();
});
