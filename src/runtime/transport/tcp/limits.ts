/**
 * Fixed internals of the tcp transport (docs/protocol.md, "Limits"); the tunables are in options.ts.
 */

/** DATA payloads up to this size are copied into the write slab; larger ones are referenced. */
export const DATA_COPY_LIMIT = 16 * 1024;

/**
 * A stream's receive window doubles (up to `maxWindow`) when the sender used all of it and the reader consumed
 * a whole window within this many ms: the window, not the reader, is what limits the stream.
 */
export const WINDOW_GROWTH_MS = 1000;

/** The longest delay setTimeout honours (2³¹−1 ms); a longer deadline simply never fires a timer. */
export const MAX_TIMER = 0x7fffffff;

/** Above this many bytes waiting for the socket, senders wait for 'drain'. */
export const WRITE_HIGH_WATER = 1024 * 1024;
