/**
 * Codecs by content type, looked up once per content type — the one cache the server (per request) and the
 * client (per call) share the code of.
 */
import { codecFor } from "./content-types.js";
import type { Codec } from "./codec.js";

/** At most this many content types are remembered (a peer sending ever new parameters cannot grow it). */
const MAX_ENTRIES = 64;

export class CodecCache {
  private readonly cache = new Map<string, Codec>();

  /**
   * The codec for a content type, as {@link codecFor}.
   * @throws MicroError (400) when the content type has no codec.
   */
  get(contentType: string): Codec {
    let c = this.cache.get(contentType);
    if (c === undefined) {
      c = codecFor(contentType);
      if (this.cache.size < MAX_ENTRIES) this.cache.set(contentType, c);
    }
    return c;
  }
}
