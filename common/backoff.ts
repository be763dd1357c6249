/**
 * Waiting between retries. Every retry loop of the project (CDC batches and streams, voucher
 * uploads, AMQP reconnects, the local store's publishes) uses these, so a dependency that
 * comes back is not hit by every waiter at once.
 */

/** Exponential backoff with full jitter: a random wait below min(cap, base * 2^attempt). */
export const backoffMs = (attempt: number, baseMs = 100, capMs = 5_000) =>
  Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    // The listener goes with the timer: a long-lived signal must not gather one per sleep.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
