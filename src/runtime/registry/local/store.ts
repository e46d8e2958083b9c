/**
 * Reads the local registry's directory: parses node files (re-reading only files that changed since the
 * last read), skips and reports corrupted ones, ignores expired ones and those whose process is gone (same
 * host, see owner.ts) and removes them lazily.
 */
import { basename, dirname, join } from "node:path";
import type { Logger } from "../../logger/index.js";
import { isLive } from "../records.js";
import { Liveness } from "./owner.js";
import {
  fileState,
  isNodeFile,
  isTempFile,
  list,
  parseEntry,
  readText,
  removeFile,
  removeIfEmpty,
  sameState,
  serviceDir,
  type FileState,
  type StoredEntry,
} from "./files.js";

/** A temporary file this old was left by a writer that died mid-write. */
const STALE_TEMP_MS = 60_000;

interface Cached {
  readonly state: FileState;
  /** Undefined when the file is not a valid node record (reported once per version of the file). */
  readonly entry?: StoredEntry;
}

export class Store {
  /** Per service directory, per file name: what was parsed from which version of the file. */
  private readonly cache = new Map<string, Map<string, Cached>>();
  private readonly liveness = new Liveness();

  constructor(
    readonly root: string,
    private readonly log: Logger,
  ) {}

  /** Live entries of one service (by name; a hashed long name may share a directory, so filter). */
  async readService(name: string): Promise<StoredEntry[]> {
    const entries = await this.readDir(serviceDir(this.root, name));
    return entries.filter((e) => e.name === name);
  }

  /** Live entries of every service. */
  async readAll(): Promise<StoredEntry[]> {
    const names = await list(this.root);
    const known = new Set(names.map((n) => join(this.root, n)));
    for (const dir of this.cache.keys()) if (!known.has(dir)) this.cache.delete(dir);
    const all = await Promise.all(names.filter((n) => !n.startsWith(".")).map((n) => this.readDir(join(this.root, n))));
    return all.flat();
  }

  /** Whether the last read of `path` found a file that is not a node record (garbage, foreign, truncated). */
  unreadable(path: string): boolean {
    const cached = this.cache.get(dirname(path))?.get(basename(path));
    return cached !== undefined && cached.entry === undefined;
  }

  private async readDir(dir: string): Promise<StoredEntry[]> {
    const names = await list(dir);
    if (names.length === 0) {
      this.cache.delete(dir);
      await removeIfEmpty(dir);
      return [];
    }
    const previous = this.cache.get(dir) ?? new Map<string, Cached>();
    const current = new Map<string, Cached>();
    const now = Date.now();
    const live: StoredEntry[] = [];
    await Promise.all(
      names.map(async (fileName) => {
        const path = join(dir, fileName);
        if (isTempFile(fileName)) return this.removeStaleTemp(path, now);
        if (!isNodeFile(fileName)) return;
        const cached = await this.readFile(path, previous.get(fileName));
        if (!cached) return;
        current.set(fileName, cached);
        if (!cached.entry) return;
        if (isLive(cached.entry, now) && this.liveness.alive(cached.entry, now)) live.push(cached.entry);
        else await this.removeExpired(path, cached.state);
      }),
    );
    this.cache.set(dir, current);
    return live;
  }

  private async readFile(path: string, previous: Cached | undefined): Promise<Cached | undefined> {
    try {
      const state = await fileState(path);
      if (!state) return undefined;
      if (previous && sameState(previous.state, state)) return previous;
      const text = await readText(path);
      if (text === undefined) return undefined;
      const { entry, problem } = parseEntry(text);
      if (problem) this.log.warn({ file: path, problem }, "skipping a local registry file that is not a node record; delete it if it stays");
      return { state, ...(entry ? { entry } : {}) };
    } catch (error) {
      this.log.warn({ file: path, err: error }, "cannot read a local registry file; skipping it");
      return undefined;
    }
  }

  /**
   * Remove a node file whose expiry passed or whose process is gone (it died or stalled). The file is removed only if it is
   * still the very file that was read (same inode and mtime): a node that re-registered meanwhile wrote a
   * new file by rename and keeps it. If the race is lost anyway, the owner's next heartbeat writes it again.
   */
  private async removeExpired(path: string, state: FileState): Promise<void> {
    try {
      const now = await fileState(path);
      if (now && sameState(now, state)) {
        await removeFile(path);
        this.log.debug({ file: path }, "removed an expired registry node");
      }
    } catch (error) {
      this.log.debug({ file: path, err: error }, "cannot remove an expired registry node");
    }
  }

  private async removeStaleTemp(path: string, now: number): Promise<void> {
    try {
      const state = await fileState(path);
      if (state && now - state.mtimeMs > STALE_TEMP_MS) await removeFile(path);
    } catch {
      // another process cleaned it up first
    }
  }
}
