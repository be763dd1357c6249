/**
 * Group commit for orders: hands the orders that arrive together to Postgres as one batch, so
 * many orders share one transaction and one WAL flush (sql/place_order.sql says why).
 *
 * No added wait when idle: at most `maxInFlight` batches run at once, and an order that finds
 * nothing running goes at once as a batch of one, so an idle system answers as fast as without
 * batching. Under load the slots are busy, orders queue, and each batch takes up to `maxBatch`
 * of the waiting ones: batches grow as much as the load needs ("smart batching").
 *
 * One bounded wait under load. Taking the queue the moment a slot frees is not enough: the
 * clients a batch answers send their next orders one by one, and the first of them found a
 * free slot and went alone, so with 64 clients two batches in three were batches of one and
 * the other slot carried everything. So
 * while other batches run, a free slot waits until as many orders queue as they hold on
 * average, for at most `lingerMs`. With nothing running, or running batches of one (light
 * load), it never waits; when orders come back all at once (callers in the same process)
 * it starts at once.
 *
 * The queue is bounded: beyond `maxQueued` waiting orders, `submit` refuses at once
 * (QueueFullError) instead of letting latency grow without limit.
 *
 * Outcomes stay per item: `run` answers one result per item, in order. If `run` throws (a lost
 * connection, a lock timeout), every item of that batch gets the error, and only that batch.
 */

export interface GroupCommitOptions<I, R> {
  /** Decides a batch; answers one result per item, in the same order. */
  run(items: I[]): Promise<R[]>;
  maxBatch: number;
  maxInFlight: number;
  maxQueued: number;
  /** How long a free slot gathers orders while another batch runs (0: never). */
  lingerMs?: number;
  /** Called after each batch with its size and duration (metrics). */
  onBatch?(size: number, seconds: number): void;
}

export interface GroupCommit<I, R> {
  submit(item: I): Promise<R>;
  /** Items waiting for a slot, and batches running (metrics, readiness). */
  depth(): { queued: number; inFlight: number };
}

export class QueueFullError extends Error {
  constructor(readonly maxQueued: number) {
    super(`more than ${maxQueued} orders are waiting for the database`);
    this.name = 'QueueFullError';
  }
}

interface Waiting<I, R> {
  item: I;
  resolve(result: R): void;
  reject(err: unknown): void;
}

export function makeGroupCommit<I, R>(options: GroupCommitOptions<I, R>): GroupCommit<I, R> {
  const { maxBatch, maxInFlight, maxQueued } = options;
  // A plain array used as a FIFO: splice(0, k) on a few thousand entries is cheap next to a
  // database round trip.
  let queue: Waiting<I, R>[] = [];
  const lingerMs = options.lingerMs ?? 0;
  let inFlight = 0;
  let inFlightItems = 0;
  let lingering: NodeJS.Timeout | undefined;

  function pump() {
    while (inFlight < maxInFlight && queue.length > 0) {
      const running = inFlight > 0 ? inFlightItems / inFlight : 0;
      if (lingerMs > 0 && queue.length < Math.min(maxBatch, running)) {
        lingering ??= setTimeout(() => {
          lingering = undefined;
          if (inFlight < maxInFlight && queue.length > 0) start();
          pump();
        }, lingerMs);
        return;
      }
      start();
    }
  }

  function start() {
    if (lingering) {
      clearTimeout(lingering);
      lingering = undefined;
    }
    const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
    queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
    inFlight += 1;
    inFlightItems += batch.length;
    void runBatch(batch);
  }

  async function runBatch(batch: Waiting<I, R>[]) {
    const started = performance.now();
    try {
      const results = await options.run(batch.map((w) => w.item));
      if (results.length !== batch.length) {
        throw new Error(`a batch of ${batch.length} got ${results.length} results`);
      }
      batch.forEach((w, i) => w.resolve(results[i] as R));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      inFlight -= 1;
      inFlightItems -= batch.length;
      options.onBatch?.(batch.length, (performance.now() - started) / 1000);
      pump();
    }
  }

  return {
    submit(item) {
      if (queue.length >= maxQueued) return Promise.reject(new QueueFullError(maxQueued));
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
    depth: () => ({ queued: queue.length, inFlight }),
  };
}
