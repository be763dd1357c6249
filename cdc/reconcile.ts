/**
 * `crs reconcile`: rebuilds everything derived from Postgres without trusting the slot.
 * Runs automatically when the consumer had to create its slot anew (first start, or after a
 * failover or a drop lost it), and on demand after a wiped cache.
 *
 *   - stock flags: read pg_current_wal_lsn() first, then every product's stock; written with
 *     that LSN, so any change committed after the read (which has a higher LSN) still wins,
 *     and replays of older changes do not overwrite the snapshot;
 *   - a render job for every order that has no stored voucher (job key = order id, so an
 *     already queued job is not doubled).
 */
import type { Redis } from 'ioredis';
import type { Pool } from '../common/db.js';
import { applyStockValues, lsnKey, type StockValue } from '../common/stockFlag.js';

/** Set once the flags were rebuilt from the tables; gone when Redis lost its data. */
export const RECONCILED_MARKER = 'crs:cdc:reconciled';

export interface ReconcileResult {
  products: number;
  jobs: number;
  lsn: string;
}

/** One product's stock as crs.stock_snapshot() returns it. */
export interface StockSnapshotRow {
  product_id: string;
  name: string;
  total: number;
  shards: number[];
}

/** A product's stock as read from the tables, every value at `version`. */
export function snapshotValues(product: StockSnapshotRow, version: string): StockValue[] {
  return [
    { field: 'name', version, value: product.name },
    { field: 'total', version, value: String(product.total) },
    ...product.shards.map((remaining, shard) => ({
      field: `shard:${shard}` as const,
      version,
      value: String(remaining),
    })),
  ];
}

export async function reconcile(deps: { pool: Pool; redis: Redis }): Promise<ReconcileResult> {
  const { rows: at } = await deps.pool.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  const lsn = at[0]?.lsn ?? '0/0';
  const { rows: products } = await deps.pool.query<StockSnapshotRow>('select * from crs.stock_snapshot()');
  // At the position read before the snapshot: its version sorts before every change
  // committed at that position or later, so those still win, and after every earlier one.
  for (const product of products) {
    await applyStockValues(deps.redis, product.product_id, snapshotValues(product, lsnKey(lsn)));
  }
  const { rows: jobs } = await deps.pool.query<{ n: number }>(
    'select crs.enqueue_missing_render_jobs() as n',
  );
  await deps.redis.set(RECONCILED_MARKER, new Date().toISOString());
  return { products: products.length, jobs: jobs[0]?.n ?? 0, lsn };
}
