import type { Pool } from '../../common/db.js';

export interface StoredOrder {
  orderId: string;
  productId: string;
  status: string;
  tokenHash: Buffer;
  createdAt: Date;
  voucherKey: string | null;
  voucherStoredAt: Date | null;
  redeemedAt: Date | null;
}

/** crs.get_order (sql/orders.sql): one order, or undefined. */
export async function getOrder(pool: Pool, orderId: string): Promise<StoredOrder | undefined> {
  const { rows } = await pool.query<{
    order_id: string;
    product_id: string;
    status: string;
    token_hash: Buffer;
    created_at: Date;
    voucher_key: string | null;
    voucher_stored_at: Date | null;
    redeemed_at: Date | null;
  }>({ name: 'get_order', text: 'select * from crs.get_order($1)', values: [orderId] });
  const row = rows[0];
  return row
    ? {
        orderId: row.order_id,
        productId: row.product_id,
        status: row.status,
        tokenHash: row.token_hash,
        createdAt: row.created_at,
        voucherKey: row.voucher_key,
        voucherStoredAt: row.voucher_stored_at,
        redeemedAt: row.redeemed_at,
      }
    : undefined;
}

/**
 * Of these orders, the ones whose voucher is stored (a few lookups at a time: this runs only
 * when the voucher events consumer reconnects, for the orders someone waits for).
 */
export async function ordersWithVouchers(
  pool: Pool,
  orderIds: string[],
): Promise<{ orderId: string; voucherKey: string; voucherStoredAt: Date | null }[]> {
  const found: { orderId: string; voucherKey: string; voucherStoredAt: Date | null }[] = [];
  const queue = [...orderIds];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let orderId = queue.shift(); orderId !== undefined; orderId = queue.shift()) {
        const order = await getOrder(pool, orderId);
        if (order?.voucherKey) {
          found.push({ orderId, voucherKey: order.voucherKey, voucherStoredAt: order.voucherStoredAt });
        }
      }
    }),
  );
  return found;
}
