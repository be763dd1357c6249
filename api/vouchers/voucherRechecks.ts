/**
 * Event streams still waiting for their voucher ask the database again, in case the
 * notification was missed (RabbitMQ away, the consumer reconnecting): after 2 s, then twice as
 * long each time, up to 15 s. The streams that are due ask together, one query per tick (per
 * 1,000 orders), instead of one query each: when vouchers run late, thousands of streams wait
 * at once, and their separate queries took a quarter of a core of Postgres at 100 orders/s
 * (`crs bench pipeline`), just when the database was needed for the backlog.
 */
import type { Logger } from '../../common/log.js';

export interface VoucherRechecks {
  /** Calls `found` once the order's voucher is seen stored; the returned function stops it. */
  watch(orderId: string, found: () => void): () => void;
  /** How many streams are waiting (for tests and metrics). */
  size(): number;
  close(): void;
}

export interface VoucherRechecksOptions {
  /** The orders among these whose voucher is stored. */
  storedAmong(orderIds: string[]): Promise<string[]>;
  log: Logger;
  firstMs?: number;
  maxMs?: number;
  /** How often due streams are gathered; a stream waits at most this much past its time. */
  tickMs?: number;
  now?: () => number;
}

interface Watch {
  orderId: string;
  found: () => void;
  due: number;
  wait: number;
}

export function makeVoucherRechecks(options: VoucherRechecksOptions): VoucherRechecks {
  const firstMs = options.firstMs ?? 2_000;
  const maxMs = options.maxMs ?? 15_000;
  const tickMs = options.tickMs ?? 250;
  const now = options.now ?? Date.now;
  const watches = new Set<Watch>();
  let timer: NodeJS.Timeout | undefined;
  let asking = false;

  /** The next look, twice as far off as the last (up to maxMs). */
  function later(w: Watch) {
    w.wait = Math.min(w.wait * 2, maxMs);
    w.due = now() + w.wait;
  }

  async function tick() {
    if (asking) return;
    const at = now();
    const due = [...watches].filter((w) => w.due <= at);
    if (due.length === 0) return;
    asking = true;
    try {
      const stored = new Set(await options.storedAmong([...new Set(due.map((w) => w.orderId))]));
      for (const w of due) {
        if (!watches.has(w)) continue;
        if (stored.has(w.orderId)) {
          watches.delete(w);
          try {
            w.found();
          } catch (err) {
            options.log.warn({ err, orderId: w.orderId }, 'voucher recheck listener failed');
          }
        } else {
          later(w);
        }
      }
    } catch (err) {
      // The database is away: each due stream tries again after its next interval.
      options.log.debug({ err, streams: due.length }, 'voucher recheck failed');
      for (const w of due) later(w);
    } finally {
      asking = false;
      if (watches.size === 0) stop();
    }
  }

  function stop() {
    clearInterval(timer);
    timer = undefined;
  }

  return {
    watch(orderId, found) {
      const w: Watch = { orderId, found, due: now() + firstMs, wait: firstMs };
      watches.add(w);
      if (!timer) {
        timer = setInterval(() => void tick(), tickMs);
        timer.unref();
      }
      return () => {
        watches.delete(w);
        if (watches.size === 0 && !asking) stop();
      };
    },
    size: () => watches.size,
    close() {
      watches.clear();
      stop();
    },
  };
}
