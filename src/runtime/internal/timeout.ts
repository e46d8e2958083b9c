/**
 * Bounding an operation in time — the one home of "race a promise against a timer", used by the plugins
 * whose clients do not bound every operation themselves (etcd, NATS, JetStream).
 */

/**
 * The operation's result, or a rejection with `onTimeout()` once `ms` milliseconds pass first. A late
 * rejection of the operation after the timeout won is swallowed (nobody waits for it any more).
 */
export async function withTimeout<T>(operation: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  operation.catch(() => {});
  try {
    return await Promise.race([operation, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wait for best-effort work (a drain, a flush) at most `ms` milliseconds; never rejects. Resolves `true`
 * when the work finished (successfully or not) in time, `false` when the time ran out.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
