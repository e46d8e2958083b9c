/**
 * The on-disk form of the local registry: one JSON file per registered node,
 * `<root>/<service>/<version>@<node id>.json`, names escaped so any string is a safe file name.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isStringMap, readNode, type NodeEntry } from "../records.js";
import type { Owner } from "./owner.js";

/**
 * A node entry as the local registry stores it: with the process that wrote it (`pid`, `host`; see owner.ts),
 * so readers on the same host drop the records of dead processes at once. Absent in files of older writers.
 */
export interface StoredEntry extends NodeEntry, Partial<Owner> {}

/** Written into every file so a future layout can tell old files apart. */
export const FORMAT = 1;

/** The longest escaped name kept verbatim; longer ones become a prefix and a hash (file names cap at 255 bytes). */
const MAX_NAME = 110;

/**
 * Escape a name for use as a file name: letters, digits, `_` and `-` stay, every other byte becomes `%XX`
 * (so `.`, `..`, `/` and `@` can never appear). Names too long for a file name keep a readable prefix and a
 * hash; the file's content carries the real name, so reads never depend on decoding.
 */
export function escapeName(name: string): string {
  let out = "";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  if (out === "") return "%"; // the empty name still needs a file name
  if (out.length <= MAX_NAME) return out;
  return out.slice(0, 40) + "~" + createHash("sha256").update(name).digest("hex").slice(0, 40);
}

export function serviceDir(root: string, name: string): string {
  return join(root, escapeName(name));
}

export function nodeFile(root: string, name: string, version: string, nodeId: string): string {
  return join(serviceDir(root, name), `${escapeName(version)}@${escapeName(nodeId)}.json`);
}

/** Whether a directory entry is a node file (temporary files start with a dot). */
export function isNodeFile(fileName: string): boolean {
  return !fileName.startsWith(".") && fileName.endsWith(".json");
}

export function isTempFile(fileName: string): boolean {
  return fileName.startsWith(".tmp-");
}

/**
 * Write a node file atomically: write a temporary file beside it, then rename over the target, so a reader
 * in any process sees either the old or the new content, never a partial file. Retries when the service
 * directory is removed under us by a concurrent cleanup.
 */
export async function writeEntry(root: string, entry: StoredEntry): Promise<void> {
  const dir = serviceDir(root, entry.name);
  const target = nodeFile(root, entry.name, entry.version, entry.node.id);
  const text = JSON.stringify({ format: FORMAT, ...entry });
  for (let attempt = 0; ; attempt++) {
    const temp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, target);
      return;
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      if (code(error) !== "ENOENT" || attempt >= 4) throw error;
    }
  }
}

export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (code(error) !== "ENOENT") throw error;
  }
}

/** Remove a directory if it is empty (another process may be writing into it: then it stays). */
export async function removeIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch(() => undefined);
}

/** Names in a directory; `[]` when it does not exist (yet). */
export async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (code(error) === "ENOENT" || code(error) === "ENOTDIR") return [];
    throw error;
  }
}

export interface FileState {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly size: number;
}

export async function fileState(path: string): Promise<FileState | undefined> {
  try {
    const s = await stat(path);
    return { ino: s.ino, mtimeMs: s.mtimeMs, size: s.size };
  } catch (error) {
    if (code(error) === "ENOENT") return undefined;
    throw error;
  }
}

export function sameState(a: FileState, b: FileState): boolean {
  return a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size;
}

export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (code(error) === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Parse a node file; `undefined` with a reason when it is not one (corrupted, edited by hand, from a
 * future format).
 */
export function parseEntry(text: string): { entry?: StoredEntry; problem?: string } {
  let value: any;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== "object" || value === null) return { problem: "not a JSON object" };
  if (value.format !== FORMAT) return { problem: `unknown format ${JSON.stringify(value.format)} (this version reads ${FORMAT})` };
  const node = value.node;
  if (typeof value.name !== "string" || typeof value.version !== "string") return { problem: "no service name or version" };
  const read = readNode(node);
  if (read === undefined) return { problem: "no valid node" };
  if (typeof value.updated !== "number" || (value.expires !== undefined && typeof value.expires !== "number")) return { problem: "bad timestamps" };
  const entry: StoredEntry = {
    name: value.name,
    version: value.version,
    ...(isStringMap(value.metadata) ? { metadata: value.metadata } : {}),
    endpoints: Array.isArray(value.endpoints) ? value.endpoints : [],
    node: read,
    updated: value.updated,
    ...(value.expires !== undefined ? { expires: value.expires } : {}),
    ...(Number.isSafeInteger(value.pid) && value.pid > 0 && typeof value.host === "string" ? { pid: value.pid, host: value.host } : {}),
  };
  return { entry };
}

export function code(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String((error as { code: unknown }).code) : undefined;
}
