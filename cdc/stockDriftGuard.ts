/**
 * The stock flag's drift guard. The flag is derived from the tables by the change stream, and
 * nothing in the stream can tell when a derived value went wrong (a bug, a hand edit, a cache
 * restored from an old backup). So the active consumer compares, now and then, every
 * product's flag with the tables, exports what disagrees, and rewrites a flag that still
 * disagrees when looked at again, as `crs reconcile` would.
 *
 * A comparison is only fair between states of the same moment, and the flag trails the
 * tables. So one check:
 *   1. reads every product's stock and, in the same statement (after its snapshot was taken),
 *      the WAL insert position P: every transaction the snapshot sees has its commit record
 *      before P;
 *   2. waits until the consumer has applied and acknowledged everything before P (it asks the
 *      server for its position rather than wait for an idle server's keepalive);
 *   3. compares value by value, skipping any value whose version is P or later (changed since
 *      the snapshot: neither side is wrong).
 * A transaction whose commit record lies before P but which became visible just after the
 * snapshot can still make one check disagree; it agrees at the next. A product is therefore
 * repaired only when two checks in a row found it wrong (the second comes after
 * `recheckMs`, not after a whole interval), with the second check's snapshot, at P: any change
 * committed since still wins over the repair (common/stockFlag.lua).
 */
import type { Redis } from 'ioredis';
import type { Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';
import {
  applyStockValues,
  lsnKey,
  readStockFlag,
  readStockValues,
  type StockValue,
} from '../common/stockFlag.js';
import type { Consumer } from './consumer.js';
import type { CdcMetrics } from './metrics.js';
import { snapshotValues, type StockSnapshotRow } from './reconcile.js';

export interface StockDriftGuardOptions {
  pool: Pool;
  redis: Redis;
  log: Logger;
  metrics: CdcMetrics;
  consumer: Pick<Consumer, 'status' | 'appliedThrough'>;
  /** Between checks; 0 turns the guard off. */
  intervalMs: number;
  /** From a check that found disagreement to the one that confirms it. */
  recheckMs?: number;
  /** How long a check waits for the consumer to catch up with the snapshot. */
  catchUpMs?: number;
}

/** One value of a product that the flag and the tables disagree on. */
export interface Disagreement {
  field: string;
  flag: string | undefined;
  table: string;
}

export type CheckOutcome =
  | { outcome: 'inactive' }
  | { outcome: 'behind'; lsn: string }
  | { outcome: 'checked'; lsn: string; products: number; disagreeing: string[]; repaired: string[] };

export interface StockDriftGuard {
  /** One check now (also what the timer runs). */
  check(): Promise<CheckOutcome>;
  stop(): Promise<void>;
}

/** Products read from Redis per round trip. */
const PIPELINE_CHUNK = 500;

export function startStockDriftGuard(options: StockDriftGuardOptions): StockDriftGuard {
  const { log, metrics } = options;
  const recheckMs = options.recheckMs ?? 1_000;
  const catchUpMs = options.catchUpMs ?? 5_000;
  /** Products that disagreed at the last check. */
  let suspects = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<CheckOutcome> | undefined;
  let stopped = false;

  async function compare(products: StockSnapshotRow[], lsn: string) {
    const at = lsnKey(lsn);
    const found = new Map<string, { disagreements: Disagreement[]; units: number; values: StockValue[] }>();
    for (let start = 0; start < products.length; start += PIPELINE_CHUNK) {
      const chunk = products.slice(start, start + PIPELINE_CHUNK);
      const flags = await Promise.all(
        chunk.map(async (product) => ({
          product,
          values: await readStockValues(options.redis, product.product_id),
          summary: await readStockFlag(options.redis, product.product_id),
        })),
      );
      for (const { product, values, summary } of flags) {
        const expected = new Map(snapshotValues(product, at).map((v) => [v.field as string, v]));
        // A shard the flag knows and the table no longer has holds nothing.
        for (const field of values.keys()) {
          if (field.startsWith('shard:') && !expected.has(field)) {
            expected.set(field, { field: field as StockValue['field'], version: at, value: '0' });
          }
        }
        const disagreements: Disagreement[] = [];
        for (const [field, want] of expected) {
          const have = values.get(field);
          if (have && have.version >= at) continue; // changed after the snapshot
          if (have?.value !== want.value) disagreements.push({ field, flag: have?.value, table: want.value });
        }
        const remaining = product.shards.reduce((sum, n) => sum + n, 0);
        // The summary the API reads is recomputed from the values on every write; check it too.
        if (summary && summary.lsn < at && disagreements.length === 0) {
          const shown = `${summary.name}|${summary.total}|${summary.remaining}|${summary.available}`;
          const table = `${product.name}|${product.total}|${remaining}|${remaining > 0}`;
          if (shown !== table) disagreements.push({ field: 'summary', flag: shown, table });
        }
        if (disagreements.length > 0) {
          found.set(product.product_id, {
            disagreements,
            units: Math.abs((summary?.remaining ?? 0) - remaining),
            values: [...expected.values()],
          });
        }
      }
    }
    return found;
  }

  async function check(): Promise<CheckOutcome> {
    const status = options.consumer.status();
    if (status.role !== 'active' || !status.streaming) return { outcome: 'inactive' };
    // The position is read after the statement's snapshot was taken (it is evaluated per row,
    // during execution), so it lies after every commit the snapshot sees.
    const { rows } = await options.pool.query<StockSnapshotRow & { at: string }>(
      'select s.*, pg_current_wal_insert_lsn()::text as at from crs.stock_snapshot() as s',
    );
    const lsn = rows.reduce((max, row) => (lsnKey(row.at) > lsnKey(max) ? row.at : max), '0/0');
    if (!(await options.consumer.appliedThrough(lsn, catchUpMs))) {
      metrics.stockChecks.inc({ outcome: 'behind' });
      return { outcome: 'behind', lsn };
    }
    const found = await compare(rows, lsn);
    const repaired: string[] = [];
    for (const [productId, { disagreements, values }] of found) {
      if (!suspects.has(productId)) {
        log.warn({ productId, lsn, disagreements }, 'stock flag disagrees with the tables; checking again');
        continue;
      }
      await applyStockValues(options.redis, productId, values);
      metrics.stockRepairs.inc();
      repaired.push(productId);
      log.error(
        { productId, lsn, disagreements },
        'stock flag disagreed with the tables at two checks in a row; rewritten from the tables',
      );
    }
    suspects = new Set([...found.keys()].filter((id) => !repaired.includes(id)));
    metrics.stockDriftProducts.set(found.size);
    metrics.stockDriftUnits.set([...found.values()].reduce((sum, f) => sum + f.units, 0));
    metrics.stockChecks.inc({ outcome: found.size > 0 ? 'disagreed' : 'agreed' });
    return { outcome: 'checked', lsn, products: rows.length, disagreeing: [...found.keys()], repaired };
  }

  function schedule(ms: number) {
    if (stopped || options.intervalMs === 0) return;
    timer = setTimeout(() => {
      running = check();
      running
        .catch((err: unknown) => {
          metrics.stockChecks.inc({ outcome: 'failed' });
          log.warn({ err }, 'stock drift check failed');
          return undefined;
        })
        .then((result) => {
          running = undefined;
          const again = result?.outcome === 'checked' && result.disagreeing.length > 0;
          schedule(again ? recheckMs : options.intervalMs);
        });
    }, ms);
    timer.unref();
  }
  schedule(options.intervalMs);

  return {
    check,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
