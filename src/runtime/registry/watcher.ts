/**
 * A push-fed {@link Watcher}: registries push events in, one consumer pulls them out with `for await`.
 * The one watcher queue of the registry implementations (memory, local, etcd): an implementation pushes what
 * its backend reports (a rescan's diff, etcd's watch events — etcd resumes its own stream after a reconnect,
 * so the queue just keeps going) and ends the feed when the backend's stream ends or the registry closes.
 *
 * Ending: the consumer's `stop()`, an aborted signal or a `break` out of the loop ends the stream at once
 * (events still queued are dropped: the consumer asked for no more); the registry's `end()` lets the consumer
 * read what was queued first, then ends it (with the error, if one was given).
 */
import type { RegistryEvent, Watcher, WatchOptions } from "./index.js";

export interface WatcherFeed {
  readonly watcher: Watcher;
  /** Queue an event (dropped when it is for another service than the watch asked for, or after stop). */
  push(event: RegistryEvent): void;
  /** End the stream; with an error, the consumer's loop throws it. */
  end(error?: Error): void;
  readonly stopped: boolean;
}

/**
 * Build a watcher. `onStop` runs once when the consumer stops it, aborts its signal, breaks out of its
 * loop, or the registry ends it.
 */
export function createWatcher(options: WatchOptions | undefined, onStop: () => void): WatcherFeed {
  const queue: RegistryEvent[] = [];
  let waiting: ((result: IteratorResult<RegistryEvent>) => void) | undefined;
  let failWaiting: ((error: Error) => void) | undefined;
  let stopped = false;
  let failure: Error | undefined;

  const stop = (error?: Error, drop = false): void => {
    if (drop) queue.length = 0;
    if (stopped) return;
    stopped = true;
    failure = error;
    options?.signal?.removeEventListener("abort", onAbort);
    if (waiting) {
      const resolve = waiting;
      const reject = failWaiting!;
      waiting = failWaiting = undefined;
      failure = undefined; // delivered here: later calls just report the end
      if (error) reject(error);
      else resolve({ value: undefined, done: true });
    }
    onStop();
  };
  const onAbort = (): void => stop(undefined, true);
  if (options?.signal?.aborted) queueMicrotask(onAbort);
  else options?.signal?.addEventListener("abort", onAbort, { once: true });

  const iterator: AsyncIterator<RegistryEvent> = {
    next(): Promise<IteratorResult<RegistryEvent>> {
      const event = queue.shift();
      if (event) return Promise.resolve({ value: event, done: false });
      if (stopped) {
        if (failure) {
          const error = failure;
          failure = undefined; // throw once, then report the end
          return Promise.reject(error);
        }
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => {
        waiting = resolve;
        failWaiting = reject;
      });
    },
    return(): Promise<IteratorResult<RegistryEvent>> {
      stop(undefined, true);
      return Promise.resolve({ value: undefined, done: true });
    },
  };

  const watcher: Watcher = {
    stop: () => stop(undefined, true),
    [Symbol.asyncIterator]: () => iterator,
  };

  return {
    watcher,
    get stopped() {
      return stopped;
    },
    push(event) {
      if (stopped) return;
      if (options?.service !== undefined && event.service.name !== options.service) return;
      if (waiting) {
        const resolve = waiting;
        waiting = failWaiting = undefined;
        resolve({ value: event, done: false });
      } else queue.push(event);
    },
    end: (error) => stop(error),
  };
}
