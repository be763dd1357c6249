/**
 * What a batch of committed transactions means for the derived world: stock values for the
 * flag, new orders that need a voucher, and the change feed's events in commit order. Pure:
 * no I/O.
 *
 * Changes are ordered by (commit LSN, position in the transaction), never by LSN alone: one
 * transaction may write a row twice (place_orders claims a unit for every order of its batch,
 * then gives back those of refused orders), and only its last write is the row's state.
 *
 * Rows that do not have the expected shape (the tables' own constraints, which the change
 * feed's schemas in cdc/schemas repeat) are reported and skipped, never fatal: a row that an
 * effect downstream could choke on would otherwise fail its batch again at every retry and
 * hold the stream. What is reported names the row (table, operation, commit LSN, key) but
 * never its contents: an order row carries a name, a phone number and a coupon code.
 */
import { isOrderId, isProductId } from '../common/identifiers.js';
import { changeVersion, lsnKey, type StockValue } from '../common/stockFlag.js';
import type { RowChange, Transaction } from './transactions.js';

export type ChangeType = 'order.created' | 'voucher.stored' | 'order.redeemed' | 'stock.changed';

/** One event of the change feed, published as a CloudEvent (cdc/cloudEvents.ts). */
export interface ChangeEvent {
  /** Unique per change: the commit LSN and the change's position in its transaction. */
  id: string;
  type: ChangeType;
  /** The transaction's commit LSN. */
  lsn: string;
  commitTime: string;
  data: Record<string, unknown>;
}

/** A product's stock as the batch leaves it. */
export interface StockEffect {
  /** The newest value of each field the batch changed. */
  values: Map<StockValue['field'], StockValue>;
  /** The batch's last transaction that changed the product. */
  lsn: string;
  commitTime: number;
}

/**
 * One place in the change feed: an event, or where a product's stock.changed event goes (known
 * only once the flag is written, since it reports every shard, changed in this batch or not).
 */
export type FeedItem = { event: ChangeEvent } | { stockOf: string };

export interface BatchEffects {
  stock: Map<string, StockEffect>;
  newOrders: { orderId: string; commitTime: number }[];
  /**
   * The change feed in commit order: each transaction's order events, then the stock.changed
   * of each product the transaction was the batch's last to change (so a product's several
   * transactions in one batch make one event, at the place of the last).
   */
  feed: FeedItem[];
  skipped: SkippedChange[];
}

/** A change left out, and why: enough to find it again (pg_logical_slot_peek_changes). */
export interface SkippedChange {
  table: RowChange['table'];
  op: RowChange['op'];
  /** Commit LSN of its transaction. */
  lsn: string;
  /** Its position in the transaction. */
  index: number;
  /** The row's key as far as it is readable (at most 80 characters), or undefined. */
  key: string | undefined;
  reason: string;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
/** Two timestamps of a row as decoded (Date objects, or text when not parsed), equal. */
const sameInstant = (a: unknown, b: unknown) =>
  a != null &&
  b != null &&
  (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : String(a) === String(b));
const ORDER_STATUSES = new Set(['reserved', 'voucher_ready', 'redeemed', 'cancelled']);
const isStatus = (v: unknown): v is string => typeof v === 'string' && ORDER_STATUSES.has(v);
const keyOf = (row: Record<string, unknown>, table: RowChange['table']) => {
  const key = table === 'orders' ? row['order_id'] : row['product_id'];
  if (key === undefined || key === null) return undefined;
  return (typeof key === 'string' ? key : JSON.stringify(key)).slice(0, 80);
};
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : undefined);

export function deriveEffects(batch: Transaction[]): BatchEffects {
  const effects: BatchEffects = { stock: new Map(), newOrders: [], feed: [], skipped: [] };
  // Where each product's stock.changed placeholder stands in `feed` (moved to later
  // transactions as they change the product again).
  const feed: (FeedItem | undefined)[] = [];
  const stockSlot = new Map<string, number>();

  for (const txn of batch) {
    const lsn = lsnKey(txn.commitLsn);
    const commitTime = new Date(txn.commitTime).toISOString();
    const stockChanged = new Set<string>();
    const setStock = (productId: string, values: StockValue[]) => {
      let entry = effects.stock.get(productId);
      if (!entry) {
        entry = { values: new Map(), lsn: txn.commitLsn, commitTime: txn.commitTime };
        effects.stock.set(productId, entry);
      }
      entry.lsn = txn.commitLsn;
      entry.commitTime = txn.commitTime;
      // Versions only grow through the batch, so the last value seen is the newest.
      for (const value of values) entry.values.set(value.field, value);
      stockChanged.add(productId);
    };

    txn.changes.forEach((change: RowChange, index) => {
      const { row } = change;
      const version = changeVersion(txn.commitLsn, index);
      const skip = (reason: string) =>
        effects.skipped.push({
          table: change.table,
          op: change.op,
          lsn: txn.commitLsn,
          index,
          key: keyOf(row, change.table),
          reason,
        });
      if (change.op === 'delete' && change.table === 'stock_shards') {
        // A shard removed (crs.spread_stock, when a product gets fewer shards) holds nothing.
        if (!isProductId(row['product_id']) || !isCount(row['shard'])) {
          return skip('deleted stock shard row without a valid product_id or shard');
        }
        return setStock(row['product_id'], [{ field: `shard:${row['shard']}`, version, value: '0' }]);
      }
      if (change.op === 'delete') return; // no API deletes products or orders
      if (change.table === 'products') {
        if (!isProductId(row['product_id']) || !isString(row['name']) || !isCount(row['total'])) {
          return skip('product row without a valid product_id, name or total');
        }
        setStock(row['product_id'], [
          { field: 'name', version, value: row['name'] },
          { field: 'total', version, value: String(row['total']) },
        ]);
      } else if (change.table === 'stock_shards') {
        if (!isProductId(row['product_id']) || !isCount(row['shard']) || !isCount(row['remaining'])) {
          return skip('stock shard row without a valid product_id, shard or remaining');
        }
        setStock(row['product_id'], [
          { field: `shard:${row['shard']}`, version, value: String(row['remaining']) },
        ]);
      } else {
        const orderId = row['order_id'];
        const productId = row['product_id'];
        const status = row['status'];
        if (!isOrderId(orderId) || !isProductId(productId) || !isStatus(status)) {
          return skip('order row without a valid order_id, product_id or status');
        }
        const event = (type: ChangeType, data: Record<string, unknown>) =>
          feed.push({
            event: { id: `${lsn}-${index}`, type, lsn: txn.commitLsn, commitTime, data },
          });
        if (change.op === 'insert') {
          effects.newOrders.push({ orderId, commitTime: txn.commitTime });
          event('order.created', { orderId, productId, status, createdAt: iso(row['created_at']) });
        } else if (sameInstant(row['purged_at'], row['updated_at'])) {
          // The personal data purge (sql/privacy.sql sets both to the same now()): the order's
          // state did not change, so the feed hears nothing (pgoutput sends no old row to tell
          // "became redeemed" from "was redeemed" otherwise).
        } else if (status === 'voucher_ready') {
          event('voucher.stored', { orderId, productId });
        } else if (status === 'redeemed') {
          event('order.redeemed', { orderId, productId });
        }
      }
    });

    for (const productId of stockChanged) {
      const earlier = stockSlot.get(productId);
      if (earlier !== undefined) feed[earlier] = undefined;
      stockSlot.set(productId, feed.push({ stockOf: productId }) - 1);
    }
  }
  effects.feed = feed.filter((item) => item !== undefined);
  return effects;
}
