/**
 * The receive side of one stream: messages that arrived and wait for the application, handed out by an
 * async iterator. Consumption is reported so the session can grant flow-control window back.
 */
import type { MicroError } from "../../errors/index.js";

type Waiter = { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: unknown) => void };

// Shared empty lists until a stream needs its own (never push into these).
const NONE: Uint8Array[] = [];
const NO_WAITERS: Waiter[] = [];

/** The one iterator result that ends every stream's message iteration. */
export const DONE: IteratorResult<Uint8Array> = Object.freeze({ value: undefined, done: true }) as IteratorResult<Uint8Array>;

export class Inbox {
  private items: Uint8Array[] = NONE;
  private head = 0;
  private waiters: Waiter[] = NO_WAITERS;
  private ended = false;
  private error: MicroError | undefined;
  /** Bytes received and not yet taken by the application. */
  bytes = 0;

  constructor(private readonly owner: { onConsume(bytes: number): void }) {}

  get isEnded(): boolean {
    return this.ended;
  }

  push(message: Uint8Array): void {
    if (this.ended) return;
    const w = this.waiters.length > 0 ? this.waiters.shift() : undefined;
    if (w) {
      this.owner.onConsume(message.length);
      w.resolve({ value: message, done: false });
      return;
    }
    if (this.items === NONE) this.items = [];
    this.items.push(message);
    this.bytes += message.length;
  }

  /** No more messages; an error is thrown to the reader after the buffered messages. */
  end(error?: MicroError): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    if (this.head < this.items.length) return;
    const waiters = this.waiters;
    this.waiters = NO_WAITERS;
    for (const w of waiters) error ? w.reject(error) : w.resolve(DONE);
  }

  /** Drop buffered messages (the reader went away). */
  clear(): void {
    this.items = NONE;
    this.head = 0;
    this.bytes = 0;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.items.length) {
      const m = this.items[this.head];
      this.items[this.head++] = undefined as unknown as Uint8Array;
      if (this.head === this.items.length) {
        this.items = NONE;
        this.head = 0;
      }
      this.bytes -= m.length;
      this.owner.onConsume(m.length);
      return Promise.resolve({ value: m, done: false });
    }
    if (this.ended) return this.error ? Promise.reject(this.error) : Promise.resolve(DONE);
    return new Promise((resolve, reject) => (this.waiters === NO_WAITERS ? (this.waiters = []) : this.waiters).push({ resolve, reject }));
  }
}
