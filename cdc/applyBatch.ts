/**
 * Applies the effects of a batch of committed transactions, every one idempotent, so a batch
 * applied twice (after a crash, before its acknowledgement) or out of order changes nothing:
 *   - the stock flag in Redis (newer version wins per value: commit LSN, then position in the
 *     transaction; see common/stockFlag.lua);
 *   - one render job per new order (job key = order id, only while it has no voucher);
 *   - the change feed on RabbitMQ, in commit order, with publisher confirms (at least once).
 * Throws, naming the dependency, if any effect failed; the caller retries the whole batch.
 *
 * If the Redis/Dragonfly it writes to lost its data (restarted without persistence, replaced),
 * replayed changes alone cannot rebuild every flag, so a marker key tells: when it is
 * missing, the batch starts with a reconciliation from the tables.
 */
import type { Redis } from 'ioredis';
import type { Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';
import { applyStockValues, lsnKey } from '../common/stockFlag.js';
import type { ChangeFeed } from './changeFeed.js';
import { deriveEffects, type BatchEffects, type ChangeEvent } from './effects.js';
import type { CdcMetrics } from './metrics.js';
import { RECONCILED_MARKER, reconcile } from './reconcile.js';
import type { Transaction } from './transactions.js';

/** An effect of a batch failed; `dependency` names what it needed. */
export class EffectError extends Error {
  constructor(
    readonly dependency: 'redis' | 'postgres' | 'rabbitmq',
    message: string,
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = 'EffectError';
  }
}

export interface BatchDeps {
  pool: Pool;
  redis: Redis;
  feed: ChangeFeed;
  log: Logger;
  metrics: CdcMetrics;
  /** Told what the batch waits on now, for the consumer's watchdog. */
  onStep?: (step: string) => void;
  /** Raw latency samples (seconds), for benchmarks that need exact percentiles. */
  observe?: (kind: 'redis' | 'job', seconds: number) => void;
}

export function makeBatchApplier(deps: BatchDeps) {
  const { log, metrics } = deps;

  async function ensureFlagsComplete() {
    if ((await deps.redis.exists(RECONCILED_MARKER)) === 1) return;
    metrics.reconciles.inc({ reason: 'redis_empty' });
    const result = await reconcile(deps);
    log.warn(result, 'stock flags were missing in Redis; reconciled from the tables');
  }

  /** Writes the batch's stock values; the stock.changed event of each product it changed. */
  async function writeStock(effects: BatchEffects): Promise<Map<string, ChangeEvent>> {
    await ensureFlagsComplete();
    const events = new Map<string, ChangeEvent>();
    for (const [productId, stock] of effects.stock) {
      const flag = await applyStockValues(deps.redis, productId, [...stock.values.values()]);
      const latency = (Date.now() - stock.commitTime) / 1000;
      metrics.commitToRedis.observe(latency);
      deps.observe?.('redis', latency);
      if (!flag) continue;
      events.set(productId, {
        id: `${lsnKey(stock.lsn)}-stock-${productId}`,
        type: 'stock.changed',
        lsn: stock.lsn,
        commitTime: new Date(stock.commitTime).toISOString(),
        data: {
          productId,
          name: flag.name,
          total: flag.total,
          remaining: flag.remaining,
          available: flag.available,
        },
      });
    }
    return events;
  }

  async function queueJobs(effects: BatchEffects) {
    if (effects.newOrders.length === 0) return;
    await deps.pool.query('select crs.enqueue_render_jobs($1)', [effects.newOrders.map((o) => o.orderId)]);
    const now = Date.now();
    for (const order of effects.newOrders) {
      const latency = (now - order.commitTime) / 1000;
      metrics.commitToJob.observe(latency);
      deps.observe?.('job', latency);
    }
  }

  return async function applyBatch(batch: Transaction[]): Promise<void> {
    const effects = deriveEffects(batch);
    for (const skipped of effects.skipped) {
      metrics.skipped.inc();
      log.warn(skipped, 'change skipped');
    }
    const failed = (dependency: EffectError['dependency'], what: string) => (err: unknown) => {
      metrics.effectFailures.inc({ dependency });
      throw new EffectError(dependency, `${what} failed (${dependency})`, err);
    };
    // Both effects settle before the batch fails: a retry must not start while the first
    // try's enqueue still waits for a connection, or the two run at once when Postgres is
    // back.
    deps.onStep?.('the stock flag (redis) and render jobs (postgres)');
    const [stock, jobs] = await Promise.allSettled([
      writeStock(effects).catch(failed('redis', 'stock flag write')),
      queueJobs(effects).catch(failed('postgres', 'render job enqueue')),
    ]);
    if (stock.status === 'rejected') throw stock.reason;
    if (jobs.status === 'rejected') throw jobs.reason;
    const stockEvents = stock.value;
    const events = effects.feed.flatMap((item) => {
      if ('event' in item) return [item.event];
      const event = stockEvents.get(item.stockOf);
      return event ? [event] : [];
    });
    deps.onStep?.('the change feed (rabbitmq)');
    await deps.feed.publish(events).catch(failed('rabbitmq', 'change feed publish'));

    for (const txn of batch) {
      for (const change of txn.changes) metrics.changes.inc({ table: change.table, op: change.op });
    }
    metrics.transactions.inc(batch.length);
    metrics.batchSize.observe(batch.length);
    const newest = batch[batch.length - 1];
    if (newest) metrics.lagSeconds.set(Math.max(0, (Date.now() - newest.commitTime) / 1000));
  };
}
