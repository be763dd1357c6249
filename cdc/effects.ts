/**
 * What a batch of committed transactions means for the derived world: stock values for the
 * flag, new orders that need a voucher, and events for the change feed. Pure: no I/O.
 * Rows that do not have the expected shape are reported and skipped, never fatal.
 */
import { lsnKey, type StockValue } from '../common/stockFlag.js';
import type { RowChange, Transaction } from './transactions.js';

export type ChangeType = 'order.created' | 'voucher.stored' | 'order.redeemed' | 'stock.changed';

/** One event of the change feed (cdc/schemas/<type>.v1.json). */
export interface ChangeEvent {
  /** Unique per change: the commit LSN and the change's position in its transaction. */
  id: string;
  type: ChangeType;
  version: 1;
  lsn: string;
  commitTime: string;
  data: Record<string, unknown>;
}

export interface BatchEffects {
  stock: Map<string, { values: StockValue[]; lsn: string; commitTime: number }>;
  newOrders: { orderId: string; commitTime: number }[];
  /** Order events in commit order; stock.changed events are added once the flag is written. */
  events: ChangeEvent[];
  skipped: string[];
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : undefined);

export function deriveEffects(batch: Transaction[]): BatchEffects {
  const effects: BatchEffects = { stock: new Map(), newOrders: [], events: [], skipped: [] };

  const stockOf = (productId: string, txn: Transaction) => {
    let entry = effects.stock.get(productId);
    if (!entry) {
      entry = { values: [], lsn: txn.commitLsn, commitTime: txn.commitTime };
      effects.stock.set(productId, entry);
    }
    entry.lsn = txn.commitLsn;
    entry.commitTime = txn.commitTime;
    return entry;
  };

  for (const txn of batch) {
    const lsn = lsnKey(txn.commitLsn);
    const commitTime = new Date(txn.commitTime).toISOString();
    txn.changes.forEach((change: RowChange, index) => {
      const { row } = change;
      const skip = (why: string) =>
        effects.skipped.push(`${change.table} ${change.op} at ${txn.commitLsn}: ${why}`);
      if (change.op === 'delete') return; // no API deletes rows; nothing derived depends on it
      if (change.table === 'products') {
        if (!isString(row['product_id']) || !isString(row['name']) || !isCount(row['total'])) {
          return skip('product row without product_id, name or total');
        }
        stockOf(row['product_id'], txn).values.push(
          { field: 'name', lsn, value: row['name'] },
          { field: 'total', lsn, value: String(row['total']) },
        );
      } else if (change.table === 'stock_shards') {
        if (!isString(row['product_id']) || !isCount(row['shard']) || !isCount(row['remaining'])) {
          return skip('stock shard row without product_id, shard or remaining');
        }
        stockOf(row['product_id'], txn).values.push({
          field: `shard:${row['shard']}`,
          lsn,
          value: String(row['remaining']),
        });
      } else {
        const orderId = row['order_id'];
        const productId = row['product_id'];
        const status = row['status'];
        if (!isString(orderId) || !isString(productId) || !isString(status)) {
          return skip('order row without order_id, product_id or status');
        }
        const event = (type: ChangeType, data: Record<string, unknown>): ChangeEvent => ({
          id: `${lsn}-${index}`,
          type,
          version: 1,
          lsn: txn.commitLsn,
          commitTime,
          data,
        });
        if (change.op === 'insert') {
          effects.newOrders.push({ orderId, commitTime: txn.commitTime });
          effects.events.push(
            event('order.created', { orderId, productId, status, createdAt: iso(row['created_at']) }),
          );
        } else if (status === 'voucher_ready') {
          effects.events.push(event('voucher.stored', { orderId, productId }));
        } else if (status === 'redeemed') {
          effects.events.push(event('order.redeemed', { orderId, productId }));
        }
      }
    });
  }
  return effects;
}
