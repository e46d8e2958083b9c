/**
 * The built-in commands: the CLI's features by chat (`list services`, `get service`, `health`, `call`,
 * `publish`) and `help`, `echo`, `hello`.
 */
import { fromError, MicroError } from "../../runtime/errors/index.js";
import { healthMethod } from "../../runtime/server/health.js";
import { jsonTarget } from "../../runtime/target/index.js";
import type { ServiceRecord } from "../../runtime/registry/index.js";
import { codeBlock, jsonBlock, table } from "../format.js";
import type { ParsedMessage } from "../parse.js";
import { CommandUsageError, type BotCommand, type CommandContext } from "./command.js";

/** The direct broker registers one service per subscribed topic under this prefix: not services a user wrote. */
const BROKER_PREFIX = "micro.broker.";
const ENDPOINT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const TOPIC = /^[A-Za-z0-9_][A-Za-z0-9_.:*>-]*$/;

function builtin(name: string, usage: string, description: string, acting: boolean, run: BotCommand["run"]): BotCommand {
  return { name, usage, description, acting, source: "builtin", run };
}

/** A JSON object typed after the command's words; a clear usage error otherwise. */
function jsonObject(text: string, usage: string, what: string): Record<string, unknown> {
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CommandUsageError(usage, `the ${what} is not valid JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new CommandUsageError(usage, `the ${what} must be a JSON object, e.g. {"name": "John"}`);
  return value as Record<string, unknown>;
}

function errorText(error: unknown): string {
  const e = error instanceof MicroError ? error : fromError(error, "micro.bot");
  return `:x: error\n${jsonBlock(e.toJSON())}`;
}

async function records(context: CommandContext, name: string): Promise<ServiceRecord[]> {
  const found = await context.registry.getService(name);
  if (found.length === 0) throw MicroError.notFound("micro.bot", `service ${name} is not registered; \`list services\` shows what is`);
  return found;
}

const help = builtin("help", "help", "What the bot can do", false, async (_m, context) => {
  const commands = await context.commands();
  const rows = commands.map((c) => [c.usage, c.description + (c.source === "builtin" ? "" : ` (service ${c.source})`)]);
  return `Commands:\n${table(["COMMAND", "WHAT IT DOES"], rows)}`;
});

const list = builtin("list", "list services", "The registered services", false, async (m, context) => {
  if (m.words[1] !== "services") throw new CommandUsageError("list services", m.words[1] ? `cannot list "${m.words[1]}"` : undefined);
  const names = [...new Set((await context.registry.listServices()).map((s) => s.name))].filter((n) => !n.startsWith(BROKER_PREFIX)).sort();
  return names.length === 0 ? "No services are registered." : codeBlock(names.join("\n"));
});

const get = builtin("get", "get service <name>", "A service's versions, nodes and endpoints", false, async (m, context) => {
  const usage = "get service <name>";
  if (m.words[1] !== "service" || !m.words[2]) throw new CommandUsageError(usage);
  const found = await records(context, m.words[2]);
  const parts = [`*${found[0]!.name}*`];
  for (const rec of found) {
    parts.push(`version ${rec.version}`);
    parts.push(table(["NODE", "ADDRESS", "METADATA"], rec.nodes.map((n) => [n.id, n.address, Object.entries(n.metadata ?? {}).map(([k, v]) => `${k}=${v}`).join(",") || "-"])));
    if (rec.endpoints.length > 0) parts.push(`Endpoints: ${rec.endpoints.map((e) => `\`${e.name}\``).join(", ")}`);
  }
  return parts.join("\n");
});

const health = builtin("health", "health <service>", "Debug.Health on every node of a service", false, async (m, context) => {
  if (!m.words[1]) throw new CommandUsageError("health <service>");
  const service = m.words[1];
  const nodes = (await records(context, service)).flatMap((r) => r.nodes);
  const rows = await Promise.all(
    nodes.map(async (n) => {
      try {
        const rsp = await context.client.call({ service, endpoint: "Debug.Health", method: healthMethod }, {}, { address: n.address, timeout: context.timeout, retries: 0 });
        return [n.id, n.address, rsp.status || "unknown"];
      } catch (error) {
        return [n.id, n.address, `unreachable (${fromError(error).detail})`];
      }
    }),
  );
  const ok = rows.filter((r) => r[2] === "ok").length;
  return `${ok === rows.length ? ":white_check_mark:" : ":warning:"} ${ok} of ${rows.length} nodes of ${service} healthy\n${table(["NODE", "ADDRESS", "STATUS"], rows)}`;
});

const call = builtin("call", "call <service> <endpoint> <json>", "Call an endpoint with a JSON request", true, async (m, context) => {
  const usage = "call <service> <endpoint> <json>";
  const [, service, endpoint] = m.words;
  if (!service || !endpoint) throw new CommandUsageError(usage);
  if (!ENDPOINT.test(endpoint)) throw new CommandUsageError(usage, `endpoint "${endpoint}" must look like Service.Method, e.g. Greeter.Hello`);
  const request = jsonObject(m.rest(3), usage, "request");
  try {
    const reply = await context.client.call(jsonTarget(service, endpoint), request, { contentType: "application/json", timeout: context.timeout });
    return jsonBlock(reply);
  } catch (error) {
    return errorText(error);
  }
});

const publish = builtin("publish", "publish <topic> <json>", "Publish a JSON message to a topic", true, async (m, context) => {
  const usage = "publish <topic> <json>";
  const topic = m.words[1];
  if (!topic) throw new CommandUsageError(usage);
  if (!TOPIC.test(topic)) throw new CommandUsageError(usage, `topic "${topic}" may hold letters, digits and . _ - : only`);
  if (m.rest(2) === "") throw new CommandUsageError(usage, "the message is missing");
  const message = jsonObject(m.rest(2), usage, "message");
  try {
    await context.client.publish(topic, message);
    return `Published to \`${topic}\`.`;
  } catch (error) {
    return errorText(error);
  }
});

const echo = builtin("echo", "echo <text>", "Say the text back", false, async (m: ParsedMessage) => m.rest(1) || "(nothing to echo)");

const hello = builtin("hello", "hello", "Say hello", false, async () => "Hello! I am the micro bot: say `help` to see what I can do.");

/** The built-in commands in `help` order. */
export const builtinCommands: readonly BotCommand[] = [help, list, get, health, call, publish, echo, hello];

export { errorText };
