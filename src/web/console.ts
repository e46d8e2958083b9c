/**
 * The dashboard's console: one line of a `micro` command (`list services`, `get service greeter`,
 * `call greeter Greeter.Hello '{"name":"John"}'`, `stream …`, `publish topic '{…}'`, `health greeter`) run
 * against the dashboard's registry, client and broker, and its output as text, as the command line prints it.
 */
import type { Client } from "../runtime/client/index.js";
import { MicroError } from "../runtime/errors/index.js";
import { isJsonObject, notAnObjectMessage } from "../runtime/errors/json-object.js";
import type { Registry } from "../runtime/registry/index.js";
import { serviceNames, serviceText } from "../runtime/registry/describe.js";
import { checkHealth } from "../runtime/target/health.js";
import { jsonTarget, lookupEndpointKind } from "../runtime/target/index.js";

/** What the console runs commands with: the dashboard's client and registry. */
export interface ConsoleDeps {
  client: Client;
  registry: Registry;
  /** Call timeout in milliseconds. */
  timeout: number;
}

/** Most messages a console `stream` prints (it stops the stream there). */
export const CONSOLE_STREAM_LIMIT = 100;

/** The console's commands, as `help` prints them. */
export const CONSOLE_HELP = [
  "list services",
  "get service <name>",
  "call <service> <endpoint> [json]",
  "stream <service> <endpoint> [json ...]   (client/bidi streams: one JSON argument per message)",
  "publish <topic> <json>",
  "health <service>",
].join("\n");

const bad = (detail: string): MicroError => MicroError.badRequest("micro.web", detail);

/** Split a command line into words: whitespace separates, '…' and "…" quote (\" inside double quotes). */
export function words(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = c === "'" ? line.indexOf("'", i + 1) : findDoubleEnd(line, i + 1);
      if (end < 0) throw bad(`unterminated ${c} quote`);
      const body = line.slice(i + 1, end);
      cur += c === '"' ? body.replace(/\\(["\\])/g, "$1") : body;
      inWord = true;
      i = end;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

function findDoubleEnd(line: string, from: number): number {
  for (let i = from; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === '"') return i;
  }
  return -1;
}

function jsonValue(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw bad(`the ${what} is not valid JSON (${(error as Error).message}); quote it, e.g. '{"name":"John"}'`);
  }
}

function jsonObject(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined) return {};
  const value = jsonValue(text, what);
  if (!isJsonObject(value)) throw bad(notAnObjectMessage(value));
  return value;
}

function need(args: readonly string[], n: number, usage: string): void {
  if (args.length < n) throw bad(`usage: ${usage}`);
}

/**
 * Run one console line.
 * @returns the output text
 * @throws MicroError for a bad line (400) or the failure of what it ran
 */
export async function runConsoleLine(deps: ConsoleDeps, line: string): Promise<string> {
  const argv = words(line);
  if (argv[0] === "micro") argv.shift();
  const [command, ...args] = argv;
  switch (command) {
    case undefined:
      return "";
    case "help":
      return CONSOLE_HELP;
    case "list":
      if (args[0] !== "services") throw bad("usage: list services");
      return serviceNames(await deps.registry.listServices()).join("\n");
    case "get": {
      need(args, 2, "get service <name>");
      if (args[0] !== "service") throw bad("usage: get service <name>");
      const records = await deps.registry.getService(args[1]!);
      if (records.length === 0) throw MicroError.notFound("micro.web", `service ${args[1]} is not registered; \`list services\` shows what is`);
      return serviceText(records);
    }
    case "call": {
      need(args, 2, "call <service> <endpoint> [json]");
      const reply = await deps.client.call(jsonTarget(args[0]!, args[1]!), jsonObject(args[2], "request"), { contentType: "application/json", timeout: deps.timeout });
      return JSON.stringify(reply, null, 2);
    }
    case "stream":
      need(args, 2, "stream <service> <endpoint> [json ...]");
      return streamLine(deps, args[0]!, args[1]!, args.slice(2));
    case "publish":
      need(args, 2, "publish <topic> <json>");
      await deps.client.publish(args[0]!, jsonValue(args[1]!, "message"));
      return JSON.stringify({ published: args[0] });
    case "health": {
      need(args, 1, "health <service>");
      const results = await checkHealth(deps.client, deps.registry, args[0]!, deps.timeout);
      if (results.length === 0) throw MicroError.notFound("micro.web", `service ${args[0]} has no registered nodes`);
      return ["NODE\tADDRESS\tVERSION\tSTATUS", ...results.map((r) => `${r.id}\t${r.address}\t${r.version}\t${r.status}${r.error ? ` (${r.error.detail})` : ""}`)].join("\n");
    }
    default:
      throw bad(`unknown command "${command}"; the commands are:\n${CONSOLE_HELP}`);
  }
}

/** A stream as NDJSON lines, within the timeout and {@link CONSOLE_STREAM_LIMIT} messages. */
async function streamLine(deps: ConsoleDeps, service: string, endpoint: string, messages: readonly string[]): Promise<string> {
  const kind = await lookupEndpointKind(deps.registry, service, endpoint, "micro.web", "`list services` shows what is");
  const target = jsonTarget(service, endpoint, kind);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error("console stream timeout")), deps.timeout);
  const options = { contentType: "application/json", signal: ac.signal };
  const lines: string[] = [];
  try {
    if (kind === "unary") lines.push(JSON.stringify(await deps.client.call(target, jsonObject(messages[0], "request"), options)));
    else if (kind === "server_streaming") {
      for await (const m of deps.client.serverStream(target, jsonObject(messages[0], "request"), options)) {
        lines.push(JSON.stringify(m));
        if (lines.length >= CONSOLE_STREAM_LIMIT) break;
      }
    } else {
      const list = messages.map((m, i) => jsonObject(m, `message ${i + 1}`));
      const requests = (async function* () {
        yield* list;
      })();
      if (kind === "client_streaming") lines.push(JSON.stringify(await deps.client.clientStream(target, requests, options)));
      else for await (const m of deps.client.bidiStream(target, requests, options)) lines.push(JSON.stringify(m));
    }
  } catch (error) {
    if (!ac.signal.aborted) throw error;
    lines.push(`(stopped after ${deps.timeout} ms)`);
  } finally {
    clearTimeout(timer);
  }
  return lines.join("\n");
}
