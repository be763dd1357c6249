/**
 * The stock flag's drift guard. The flag is derived from the tables by the change stream, and
 * nothing in the stream can tell when a derived value went wrong (a bug, a hand edit, a cache
 * restored from an old backup). So the active consumer compares, now and then, every
 * product's flag with the tables, exports what disagrees, and rewrites a flag that still
 * disagrees when looked at again, as `crs reconcile` would.
 *
 * A comparison is only fair between states of the same moment, and the flag trails the
 * tables. So one check:
 *   1. reads the WAL insert position P, then takes an xid of its own;
 *   2. waits until no older xid is in progress: a transaction whose commit record lies before
 *      P may not be visible yet (it is flushing), and would otherwise be in the flag and not in
 *      the snapshot;
 *   3. reads every product's stock and, after that snapshot, the insert position Q: the
 *      snapshot sees every commit before P, and none after Q;
 *   4. waits until the consumer has applied and acknowledged everything before Q (it asks the
 *      server for its position rather than wait for an idle server's keepalive);
 *   5. compares value by value, skipping a value whose version is P or later (its last change
 *      may or may not be in the snapshot). Any other value was last written by a commit before
 *      P, which the snapshot sees, with nothing later: flag and table must agree.
 * A disagreement is reported at once; a product is rewritten only when the next check (after
 * `recheckMs`, not a whole interval) finds it wrong again, with that check's snapshot at P, so
 * any change committed at P or later still wins over the repair (common/stockFlag.lua).
 * Under steady load a hot product's values keep changing past P and are seldom judged: drift
 * there is caught once the product is quiet.
 */
import type { Redis } from 'ioredis';
import type { Pool } from '../common/db.js';
import { sleep } from '../common/backoff.js';
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

/** Products whose Redis reads are in flight at once (ioredis pipelines them on one connection). */
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

  /** Waits (up to catchUpMs) until no transaction older than `xid` is in progress. */
  async function transactionsEnded(xid: string): Promise<boolean> {
    const deadline = Date.now() + catchUpMs;
    for (;;) {
      const { rows } = await options.pool.query<{ ended: boolean }>(
        'select pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 as ended',
        [xid],
      );
      if (rows[0]?.ended) return true;
      if (Date.now() >= deadline) return false;
      await sleep(20);
    }
  }

  async function check(): Promise<CheckOutcome> {
    const status = options.consumer.status();
    if (status.role !== 'active' || !status.streaming) return { outcome: 'inactive' };
    const { rows: start } = await options.pool.query<{ p: string }>(
      'select pg_current_wal_insert_lsn()::text as p',
    );
    const lsn = start[0]?.p ?? '0/0';
    // An xid of our own, assigned after P was read: every transaction whose commit record lies
    // before P had its xid before this one. (A snapshot's xmax is no such bound: it is the
    // newest completed xid + 1, and a running transaction above it is not listed.)
    const { rows: mark } = await options.pool.query<{ xid: string }>(
      'select pg_current_xact_id()::text as xid',
    );
    if (!(await transactionsEnded(mark[0]?.xid ?? '0'))) {
      metrics.stockChecks.inc({ outcome: 'behind' });
      return { outcome: 'behind', lsn };
    }
    // Q is read after the statement's snapshot was taken (it is evaluated per row, during
    // execution), so it lies after every commit the snapshot sees.
    const { rows } = await options.pool.query<StockSnapshotRow & { q: string }>(
      'select s.*, pg_current_wal_insert_lsn()::text as q from crs.stock_snapshot() as s',
    );
    const q = rows.reduce((max, row) => (lsnKey(row.q) > lsnKey(max) ? row.q : max), lsn);
    if (!(await options.consumer.appliedThrough(q, catchUpMs))) {
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
