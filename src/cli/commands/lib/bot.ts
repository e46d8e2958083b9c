/**
 * `micro bot`: the bot in this process until SIGINT/SIGTERM, over the runtime the global flags select.
 */
import { httpInput, newBot, slackInput, type HttpInput, type Input } from "../../../bot/index.js";
import { MicroError } from "../../../runtime/errors/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";
import { durationFlag, runCommand, untilStopSignal } from "./io.js";
import { openRuntime } from "./runtime.js";

export interface BotArguments {
  inputs: string;
  namespace: string;
  allow_users?: string;
  allow_channels?: string;
  http_address: string;
  slack_app_token?: string;
  slack_bot_token?: string;
  slack_api_url?: string;
  timeout?: string;
  [flag: string]: unknown;
}

const list = (value: string | undefined): string[] => (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);

/** The inputs `--inputs` names, built (not yet connected). */
function inputsFrom(args: BotArguments): Input[] {
  const names = list(args.inputs);
  if (names.length === 0) throw new UsageError("--inputs names no input: use slack, http or both (slack,http)");
  const unknown = names.filter((n) => n !== "slack" && n !== "http");
  if (unknown.length > 0) throw new UsageError(`unknown input ${unknown.map((n) => `"${n}"`).join(", ")}: the inputs are slack and http`);
  try {
    return [...new Set(names)].map((name) =>
      name === "http"
        ? httpInput({ address: args.http_address })
        : slackInput({
            appToken: args.slack_app_token ?? process.env.MICRO_BOT_SLACK_APP_TOKEN ?? "",
            botToken: args.slack_bot_token ?? process.env.MICRO_BOT_SLACK_BOT_TOKEN ?? "",
            ...((args.slack_api_url ?? process.env.MICRO_BOT_SLACK_API_URL) ? { apiUrl: args.slack_api_url ?? process.env.MICRO_BOT_SLACK_API_URL } : {}),
          }),
    );
  } catch (error) {
    if (error instanceof MicroError && error.code === 400) throw new UsageError(error.detail);
    throw error;
  }
}

export async function runBot(args: BotArguments): Promise<void> {
  const timeout = durationFlag(args.timeout, "timeout");
  const inputs = inputsFrom(args);
  const rt = await openRuntime(args, { logs: "service" });
  await runCommand(async () => {
    const bot = newBot({
      inputs,
      registry: rt.plugins.registry,
      client: rt.client,
      namespace: args.namespace,
      allowUsers: list(args.allow_users),
      allowChannels: list(args.allow_channels),
      ...(timeout !== undefined ? { timeout } : {}),
    });
    await bot.start();
    const http = inputs.find((i): i is HttpInput => i.name === "http");
    // One line on stdout so scripts (and tests) learn that it is up and where the http input listens.
    process.stdout.write(`${JSON.stringify({ event: "listening", inputs: inputs.map((i) => i.name), ...(http ? { http: http.address } : {}) })}\n`);
    await untilStopSignal();
    await bot.stop();
  }, rt.close);
}
