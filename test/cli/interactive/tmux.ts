/**
 * A real pseudo-terminal for prompt tests: a private tmux server (its own socket in a temporary directory, no
 * config file), one session running a command, keys sent with `send-keys`, the screen read with
 * `capture-pane`. Panes stay after their command exits (remain-on-exit), so what it printed last stays readable.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class Tmux {
  private readonly dir = mkdtempSync(join(tmpdir(), "micro-tmux-"));
  private readonly socket = join(this.dir, "sock");
  private readonly config = join(this.dir, "tmux.conf");

  constructor(private readonly env: Readonly<Record<string, string>>) {
    writeFileSync(this.config, "set -g remain-on-exit on\nset -g history-limit 5000\n");
  }

  /** Run one tmux command against the private server; resolves with its stdout. */
  run(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile("tmux", ["-S", this.socket, "-f", this.config, ...args], { env: { ...process.env, ...this.env }, timeout: 15_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`tmux ${args.join(" ")}: ${error.message} ${stderr}`)) : resolve(stdout),
      );
    });
  }

  /**
   * Start a 200x50 session running `command` (argv) under `sh`, which prints `EXIT=<code>` when it ends
   * (tmux's own #{pane_dead_status} is sometimes never filled in when the pane's terminal closes first).
   */
  async start(command: readonly string[]): Promise<void> {
    await this.run("new-session", "-d", "-x", "200", "-y", "50", "-s", "t", "--", "sh", "-c", '"$@"; echo "EXIT=$?"', "sh", ...command);
  }

  /** Type `text` literally (no key names). */
  type(text: string): Promise<string> {
    return this.run("send-keys", "-t", "t", "-l", "--", text);
  }

  /** Press keys by tmux name: Enter, Tab, Up, C-c, C-d. */
  keys(...names: string[]): Promise<string> {
    return this.run("send-keys", "-t", "t", ...names);
  }

  /** The whole pane, scrollback included, wrapped lines joined, trailing blanks trimmed. */
  async screen(): Promise<string> {
    const text = await this.run("capture-pane", "-p", "-J", "-S", "-5000", "-t", "t");
    return text.replace(/\s+$/, "");
  }

  /** Poll the screen until `ok` holds; rejects after `ms` with what the screen showed. */
  async waitFor(ok: (screen: string) => boolean, what: string, ms = 30_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const screen = await this.screen();
      if (ok(screen)) return screen;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the screen shows:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stop the server and remove its directory. */
  async close(): Promise<void> {
    // The server may be gone already (its last session ended); nothing to stop then.
    await this.run("kill-server").catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

