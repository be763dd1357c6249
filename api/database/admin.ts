import type { Pool } from '../../common/db.js';
import type { Stock } from './stock.js';

/** crs.list_products (sql/admin.sql): every product's stock. */
export async function listProducts(pool: Pool): Promise<Stock[]> {
  const { rows } = await pool.query<{ product_id: string; name: string; total: number; remaining: number }>({
    name: 'list_products',
    text: 'select * from crs.list_products()',
  });
  return rows.map((row) => ({
    productId: row.product_id,
    name: row.name,
    total: row.total,
    remaining: row.remaining,
    available: row.remaining > 0,
  }));
}

export interface OrderSummary {
  orderId: string;
  productId: string;
  status: string;
  /** Shortened by the database: "Aino V. (…567)". */
  customer: string;
  createdAt: Date;
  redeemedAt: Date | null;
}

/** crs.list_orders (sql/admin.sql): the newest orders of a product. */
export async function listOrders(pool: Pool, productId: string, limit: number): Promise<OrderSummary[]> {
  const { rows } = await pool.query<{
    order_id: string;
    product_id: string;
    status: string;
    customer: string;
    created_at: Date;
    redeemed_at: Date | null;
  }>({ name: 'list_orders', text: 'select * from crs.list_orders($1, $2)', values: [productId, limit] });
  return rows.map((row) => ({
    orderId: row.order_id,
    productId: row.product_id,
    status: row.status,
    customer: row.customer,
    createdAt: row.created_at,
    redeemedAt: row.redeemed_at,
  }));
}
