/**
 * Helpers for the dashboard tests: the real `micro web` bin as a process, and one headless Chromium
 * (Debian's /usr/bin/chromium through playwright-core) with a fresh profile; a failing step saves a
 * screenshot into the test's temp directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { MICRO_BIN, type Env } from "../cli/support.js";
import { spawnNode, type Fixture } from "../support/process.js";

/** Start `micro web` on a free loopback port and wait for its `listening` line. */
export async function startWeb(env: Env, args: readonly string[] = []): Promise<{ proc: Fixture; url: string; token?: string }> {
  const proc = spawnNode([MICRO_BIN, "web", "--address", "127.0.0.1:0", ...args], env);
  const ready = await proc.started((e) => e.event === "listening");
  return { proc, url: String(ready.url), token: ready.token === undefined ? undefined : String(ready.token) };
}

/** Chromium's flags: headless, and no background connections (refused on a closed network). */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Where screenshots of failures go. */
  dir: string;
  /** Run `step`; on failure save `<dir>/<name>.png` and rethrow, naming it. */
  step<T>(name: string, step: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** One browser (a persistent context on a fresh temp profile) with one page. */
export async function openBrowser(): Promise<Browser> {
  const dir = mkdtempSync(join(tmpdir(), "micro-web-test-"));
  const context = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    dir,
    async step(name, step) {
      try {
        return await step();
      } catch (error) {
        const path = join(dir, `${name.replace(/[^\w-]+/g, "-")}.png`);
        await page.screenshot({ path, fullPage: true }).catch((e: unknown) => console.error(`no screenshot: ${String(e)}`));
        if (error instanceof Error) error.message += `\n(screenshot: ${path})`;
        throw error;
      }
    },
    async close() {
      await context.close();
      // The screenshots of failures stay for a look; a clean run leaves nothing behind.
      if (process.exitCode === undefined || process.exitCode === 0) rmSync(join(dir, "profile"), { recursive: true, force: true });
    },
  };
}
