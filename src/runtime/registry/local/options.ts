/** Options of the local registry: the directory it shares with the other processes of this machine, and how it watches it. */
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MicroError } from "../../errors/index.js";
import { positiveMs } from "../../internal/option-values.js";

/** The error id of the local registry (`micro.registry.<impl>`): bad options, bad records, an unwritable directory. */
export const ID = "micro.registry.local";

export interface Options {
  /** The registry directory (default `<os.tmpdir()>/micro-ts-registry-<uid>`). Processes that share it see each other. */
  address?: string;
  /** Milliseconds between fallback rescans while a watch is active (default 1000). */
  pollInterval?: number;
  /**
   * Use `fs.watch` to notice changes at once (default true). Turn it off where it misbehaves (some network
   * or container filesystems): watches then see changes within `pollInterval`.
   */
  fsWatch?: boolean;
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  /** The registry directory, absolute. */
  root: string;
  pollInterval: number;
  fsWatch: boolean;
}

/** The default registry directory for this user. */
export function defaultLocalRegistryPath(): string {
  const uid = typeof process.getuid === "function" ? `-${process.getuid()}` : "";
  return join(tmpdir(), `micro-ts-registry${uid}`);
}

/** @throws MicroError (400, {@link ID}) for a network address or a pollInterval that is not a positive number. */
export function resolveOptions(options: Options = {}): ResolvedOptions {
  return {
    root: resolveRoot(options.address),
    pollInterval: positiveMs(options.pollInterval, 1000, ID, "local registry", "pollInterval"),
    fsWatch: options.fsWatch ?? true,
  };
}

/** The registry directory: absolute; `host:port` is refused (it belongs to another registry, like etcd). */
function resolveRoot(address: string | undefined): string {
  if (address === undefined || address.trim() === "") return defaultLocalRegistryPath();
  if (/^[^/\\]*:\d+$/.test(address)) {
    throw MicroError.badRequest(ID, `the local registry's address is a directory, not a network address ("${address}"); did you mean another --registry, like etcd?`);
  }
  return resolve(address);
}
