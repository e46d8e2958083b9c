/**
 * The prompt's history file (`~/.micro_history`, HOME respected): one entry a line, oldest first, at most
 * `size` entries. Read once when the prompt opens; written after every entry (a crash loses nothing), through
 * a temporary file and a rename so a reader never sees half a file. Mode 0600: entries may hold tokens.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Default bound of the history (entries). */
export const DEFAULT_HISTORY_SIZE = 1000;

/** `~/.micro_history` (HOME, else the user's home directory). */
export function defaultHistoryPath(): string {
  return join(homedir(), ".micro_history");
}

export class HistoryFile {
  constructor(
    readonly path: string,
    readonly size: number = DEFAULT_HISTORY_SIZE,
  ) {}

  /** The saved entries, newest first (readline's order); none when the file does not exist yet. */
  load(): string[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .slice(-this.size)
      .reverse();
  }

  /** Replace the file with `entries` (newest first, as readline keeps them), bounded to `size`. */
  save(entries: readonly string[]): void {
    const lines = entries.slice(0, this.size).filter((e) => !e.includes("\n")).reverse();
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, lines.length > 0 ? `${lines.join("\n")}\n` : "", { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
