/** Options of the in-process broker: there are none yet; the file keeps the family's shape. */
import { MicroError } from "../../errors/index.js";

/** The memory broker's error id. */
export const ID = "micro.broker.memory";

export interface MemoryBrokerOptions {}

export type ResolvedMemoryOptions = Readonly<MemoryBrokerOptions>;

/** @throws MicroError (400, `micro.broker.memory`) when `options` is not an object. */
export function resolveOptions(options: MemoryBrokerOptions = {}): ResolvedMemoryOptions {
  if (typeof options !== "object" || options === null) throw MicroError.badRequest(ID, "memoryBroker options must be an object");
  return {};
}
