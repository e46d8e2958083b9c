/**
 * The message feed every input hands the bot: pushed as messages arrive, read once with `for await`, ended
 * by `close()`. Built on `events.on`, which buffers what arrives while the bot is busy.
 */
import { EventEmitter, on } from "node:events";
import type { InboundMessage } from "../input.js";

export class MessageFeed {
  private readonly emitter = new EventEmitter();
  private readonly abort = new AbortController();

  push(message: InboundMessage): void {
    if (!this.abort.signal.aborted) this.emitter.emit("message", message);
  }

  async *messages(): AsyncGenerator<InboundMessage> {
    try {
      for await (const [message] of on(this.emitter, "message", { signal: this.abort.signal })) yield message as InboundMessage;
    } catch (error) {
      if ((error as Error).name !== "AbortError") throw error;
    }
  }

  close(): void {
    this.abort.abort();
  }
}
