/**
 * Input and output helpers shared by the `micro` commands: JSON arguments and stdin, NDJSON, metadata
 * flags, durations, and how a failure is reported (a MicroError as JSON on stderr, exit code 1). Output goes to
 * the running command's {@link commandIo} (the process's streams, or the interactive prompt's).
 */
import { createInterface } from "node:readline";
import { fromError, MicroError } from "../../../runtime/errors/index.js";
import { parseDuration } from "../../../runtime/config/index.js";
import { UsageError } from "../../../runtime/errors/usage.js";
import { isJsonObject, notAnObjectMessage } from "../../../runtime/errors/json-object.js";
import { commandIo, ReportedCommandFailure } from "./context.js";

/** The stdin of the running command. @throws UsageError where there is none (the interactive prompt). */
function stdin(): NodeJS.ReadableStream {
  const input = commandIo().stdin;
  if (input === undefined) {
    throw new UsageError("there is no stdin to read here (-): type the request on the line; JSON may span lines until its braces balance, and a quoted argument may hold NDJSON lines");
  }
  return input;
}

/** Read all of stdin as text. @throws UsageError where there is no stdin (the interactive prompt). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin()) chunks.push(typeof c === "string" ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString("utf8");
}

/** Whether a positional argument means "read stdin": `-` (which yargs hands over as an empty string). */
export function isStdinArgument(text: string | undefined): boolean {
  return text === "-" || text === "";
}

/** Parse a JSON request argument (`-` reads stdin; absent means `{}`). @throws UsageError on bad JSON. */
export async function requestArgument(text: string | undefined, what = "request"): Promise<unknown> {
  const raw = isStdinArgument(text) ? await readStdin() : text;
  if (raw === undefined || raw.trim() === "") return {};
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new UsageError(`the ${what} is not valid JSON (${(error as Error).message}); quote it, e.g. '{"name":"John"}'`);
  }
}

/**
 * A request message: a JSON object (a proto message's JSON form), never an array, string or number.
 * @throws UsageError `request must be a JSON object, got …` (the message every JSON edge uses).
 */
export function requireRequestObject(value: unknown): Record<string, unknown> {
  if (!isJsonObject(value)) throw new UsageError(notAnObjectMessage(value));
  return value;
}

/** {@link requestArgument} for a request message: it must be a JSON object. */
export async function requestObjectArgument(text: string | undefined): Promise<Record<string, unknown>> {
  return requireRequestObject(await requestArgument(text));
}

/**
 * NDJSON: one JSON value per non-empty line of `lines` (numbered from 1, empty lines counted).
 * @throws UsageError with the text `bad` gives for the first line that is not JSON.
 */
export async function* ndjson(lines: AsyncIterable<string> | Iterable<string>, bad: (line: number, error: Error) => string): AsyncGenerator<unknown> {
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(bad(n, error as Error));
    }
    yield value;
  }
}

/** NDJSON messages from stdin, one JSON value per non-empty line. Stdin is read once this is iterated, not before. */
export async function* ndjsonStdin(): AsyncGenerator<unknown> {
  const rl = createInterface({ input: stdin(), crlfDelay: Infinity });
  yield* ndjson(rl, (n, error) => `stdin line ${n} is not valid JSON (${error.message}); send one JSON message per line`);
}

/** `--metadata k=v` (repeatable) as a record. @throws UsageError naming the bad entry. */
export function metadataFlag(values: unknown): Record<string, string> {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  const md: Record<string, string> = {};
  for (const entry of list.map(String)) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new UsageError(`--metadata "${entry}" must be key=value`);
    const key = entry.slice(0, eq).trim();
    const value = entry.slice(eq + 1);
    if (/[\r\n]/.test(key + value)) throw new UsageError(`--metadata "${key}" must not contain line breaks`);
    md[key] = value;
  }
  return md;
}

/**
 * The call metadata of `--metadata` plus the bearer token of `--token` (or `MICRO_AUTH_TOKEN` when the flag is
 * absent) as `authorization: Bearer <token>`. Both an `authorization` entry in --metadata and a token is a usage error.
 */
export function metadataWithToken(values: unknown, token: unknown, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const md = metadataFlag(values);
  const t = token !== undefined ? String(token) : env.MICRO_AUTH_TOKEN || undefined;
  if (t === undefined) return md;
  if (t.trim() === "" || /\s/.test(t)) throw new UsageError(`--token must be a token without spaces (the value after "Bearer "), got ${JSON.stringify(t)}`);
  if (Object.keys(md).some((k) => k.toLowerCase() === "authorization")) throw new UsageError(`give the token either with --token / MICRO_AUTH_TOKEN or with --metadata authorization=…, not both`);
  md.authorization = `Bearer ${t}`;
  return md;
}

/** `--timeout` (`5s`, `250ms`, or milliseconds) in milliseconds. */
export function durationFlag(value: unknown, flag: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  try {
    const ms = parseDuration(String(value), `--${flag}`);
    if (ms <= 0) throw new Error();
    return ms;
  } catch {
    throw new UsageError(`invalid --${flag} "${String(value)}": use a duration like 5s, 250ms or 1m`);
  }
}

/** Resolves at the first SIGINT or SIGTERM: long-running commands (`micro api`, `micro web`, `micro sidecar`, `micro bot`) then stop gracefully. */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

/** Write one line to the running command's stdout. */
export function out(text: string): void {
  commandIo().stdout.write(`${text}\n`);
}

/** A reply as `--output json` (pretty JSON) or `text` (top-level fields as `key: value` lines). */
export function formatReply(value: unknown, output: string): string {
  if (output === "text" && value !== null && typeof value === "object" && !Array.isArray(value)) {
    const lines = Object.entries(value).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    return lines.join("\n");
  }
  return JSON.stringify(value, null, 2);
}

/**
 * A lookup that failed because the registry cannot be reached is a 503 (the registry's own code), not the
 * 500 the selector wraps it in: nothing is wrong with the request, the registry is unavailable.
 */
export function unavailableRegistry(e: MicroError): MicroError {
  if (e.code !== 500) return e;
  for (let c: unknown = e.cause, depth = 0; c instanceof Error && depth < 8; c = c.cause, depth++) {
    if (c instanceof MicroError && c.code === 503 && c.id.startsWith("micro.registry")) return new MicroError(c.id, 503, e.detail, undefined, { cause: e });
  }
  return e;
}

/**
 * Run a command body: usage errors propagate (exit 2), anything else is printed as the MicroError JSON
 * `{id, code, detail, status}` on the command's stderr and {@link ReportedCommandFailure} is thrown (exit
 * code 1; the process itself is left running, so the interactive prompt carries on). The runtime is closed
 * either way.
 */
export async function runCommand(body: () => Promise<void>, cleanup: () => Promise<void> = async () => {}): Promise<void> {
  try {
    await body();
  } catch (error) {
    // The command's own failure is what gets reported; a failure to release its runtime after it adds nothing.
    await cleanup().catch(() => undefined);
    if (error instanceof UsageError) throw error;
    const e = unavailableRegistry(error instanceof MicroError ? error : fromError(error, "micro.cli"));
    commandIo().stderr.write(`${JSON.stringify(e.toJSON())}\n`);
    throw new ReportedCommandFailure();
  }
  await cleanup();
}
