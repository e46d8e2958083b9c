/** Options of the in-process registry: there are none yet; the file keeps the family's shape. */
import { MicroError } from "../../errors/index.js";

/** The memory registry's error id. */
export const ID = "micro.registry.memory";

export interface MemoryRegistryOptions {}

export type ResolvedMemoryOptions = Readonly<MemoryRegistryOptions>;

/** @throws MicroError (400, `micro.registry.memory`) when `options` is not an object. */
export function resolveOptions(options: MemoryRegistryOptions = {}): ResolvedMemoryOptions {
  if (typeof options !== "object" || options === null) throw MicroError.badRequest(ID, "memoryRegistry options must be an object");
  return {};
}
