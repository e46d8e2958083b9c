/**
 * A stream through the gateway that the service's drain limit cuts on SIGTERM ends with an error the client
 * can read (SSE `event: error`, WebSocket close 4503), not a torn connection.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { startFixture, startGateway, stop, testEnv, type Env, type Fixture } from "../cli/support.js";

let env: Env;
let remove: () => void;
const procs: Fixture[] = [];
let url: string;

before(async () => {
  ({ env, remove } = testEnv());
  const gw = await startGateway(env);
  procs.push(gw.proc);
  url = gw.url;
});

after(async () => {
  await Promise.all(procs.map((p) => stop(p)));
  remove();
});

async function drainingService(name: string): Promise<Fixture> {
  const { proc } = await startFixture("greeter-service", { ...env, SERVICE_NAME: name }, ["--drain_timeout", "300ms"]);
  procs.push(proc);
  return proc;
}

test("SSE: a server stream cut by the service's drain ends with event: error", async () => {
  const service = await drainingService("sse");
  const r = await fetch(`${url}/sse/greeter/stream`, { method: "POST", body: '{"name":"endless","count":1}', headers: { "content-type": "application/json", accept: "text/event-stream" } });
  assert.equal(r.status, 200);
  const reader = r.body!.getReader();
  let text = "";
  while (!text.includes("\n\n")) text += new TextDecoder().decode((await reader.read()).value);
  service.kill("SIGTERM");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  assert.match(text, /^data: \{"message":"endless 0"\}\n\n/);
  assert.match(text, /event: error\ndata: \{"id":"[^"]+","code":503,/);
});

test("WebSocket: a server stream cut by the service's drain closes with 4503 after an error frame", async () => {
  const service = await drainingService("wss");
  const ws = new WebSocket(`${url.replace("http", "ws")}/wss/greeter/stream`);
  const messages: unknown[] = [];
  const closed = new Promise<number>((resolve, reject) => {
    ws.on("close", (code) => resolve(code));
    ws.on("error", reject);
  });
  ws.on("open", () => ws.send('{"name":"endless","count":1}'));
  ws.on("message", (d) => {
    messages.push(JSON.parse(d.toString()));
    if (messages.length === 1) service.kill("SIGTERM");
  });
  assert.equal(await closed, 4503);
  assert.deepEqual(messages[0], { message: "endless 0" });
  assert.equal((messages[1] as { error: { code: number } }).error.code, 503);
});
