import type { Pool } from '../common/db.js';

export interface StoredOrder {
  orderId: string;
  productId: string;
  status: string;
  tokenHash: Buffer;
  createdAt: Date;
  voucherKey: string | null;
  voucherStoredAt: Date | null;
  redeemedAt: Date | null;
  productName: string;
  couponCode: string;
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
    product_name: string;
    coupon_code: string;
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
        productName: row.product_name,
        couponCode: row.coupon_code,
      }
    : undefined;
}

/** Ids per query: a statement's array stays small whatever the number of waiting streams. */
const IDS_PER_QUERY = 1_000;

/**
 * Of these orders, the ones whose voucher is stored, in one query per 1,000 ids (the voucher
 * events consumer asks when it reconnects; streams still waiting ask together, see
 * voucherRechecks.ts).
 */
export async function ordersWithVouchers(
  pool: Pool,
  orderIds: string[],
): Promise<{ orderId: string; voucherKey: string; voucherStoredAt: Date | null }[]> {
  const found: { orderId: string; voucherKey: string; voucherStoredAt: Date | null }[] = [];
  for (let from = 0; from < orderIds.length; from += IDS_PER_QUERY) {
    const { rows } = await pool.query<{
      order_id: string;
      voucher_key: string;
      voucher_stored_at: Date | null;
    }>({
      name: 'orders_with_vouchers',
      text: 'select * from crs.orders_with_vouchers($1)',
      values: [orderIds.slice(from, from + IDS_PER_QUERY)],
    });
    for (const row of rows) {
      found.push({
        orderId: row.order_id,
        voucherKey: row.voucher_key,
        voucherStoredAt: row.voucher_stored_at,
      });
    }
  }
  return found;
}
