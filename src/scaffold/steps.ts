/**
 * Runs the long steps of `micro new` (npm install, npm run generate) as child processes with progress on
 * stderr: a spinner and elapsed time on a terminal, one plain line per step otherwise. A failed step
 * reports its name, exit status and the last lines of its output.
 */
import { spawn } from "node:child_process";

/** A step that exited non-zero or could not start. */
export class StepError extends Error {
  override readonly name = "StepError";
  constructor(
    readonly step: string,
    message: string,
    /** The last lines the step printed. */
    readonly tail: string,
  ) {
    super(message);
  }
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const TAIL_LINES = 20;

function elapsed(start: number): string {
  return `${((Date.now() - start) / 1000).toFixed(1)}s`;
}

/** Run `command args` in `cwd`; resolves when it exits 0. */
export async function runStep(label: string, command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const tty = process.stderr.isTTY === true;
  const start = Date.now();
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    const draw = () => process.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} ${elapsed(start)}\x1b[K`);
    draw();
    timer = setInterval(draw, 100);
  } else {
    process.stderr.write(`${label} …\n`);
  }
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString("utf8"));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], shell: process.platform === "win32" });
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      child.on("error", (error) => reject(new StepError(label, `${label} could not start ${command}: ${error.message}`, "")));
      child.on("close", (code, signal) => {
        if (code === 0) return resolve();
        const tail = output.join("").trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(new StepError(label, `${label} failed: \`${[command, ...args].join(" ")}\` ${how}`, tail));
      });
    });
    if (tty) process.stderr.write(`\r✔ ${label} ${elapsed(start)}\x1b[K\n`);
    else process.stderr.write(`${label} done (${elapsed(start)})\n`);
  } catch (error) {
    if (tty) process.stderr.write(`\r✖ ${label} ${elapsed(start)}\x1b[K\n`);
    throw error;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** `npm` on this platform. */
export const npmCommand = process.platform === "win32" ? "npm.cmd" : "npm";
