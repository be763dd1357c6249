import type { Pool } from '../common/db.js';
import type { AuditActor } from './admin.js';

export interface Stock {
  productId: string;
  name: string;
  total: number;
  remaining: number;
  available: boolean;
}

/** crs.get_stock (sql/stock.sql): the product's stock, or undefined when it does not exist. */
export async function getStock(pool: Pool, productId: string): Promise<Stock | undefined> {
  const { rows } = await pool.query<{
    product_id: string;
    name: string;
    total: number;
    remaining: number;
  }>({ name: 'get_stock', text: 'select * from crs.get_stock($1)', values: [productId] });
  const row = rows[0];
  return row
    ? {
        productId: row.product_id,
        name: row.name,
        total: row.total,
        remaining: row.remaining,
        available: row.remaining > 0,
      }
    : undefined;
}

export interface UpsertProductResult {
  outcome: 'created' | 'updated' | 'below_reserved';
  stock: Stock;
  reserved: number;
}

/**
 * crs.upsert_product (sql/stock.sql): create a product or change its name and total. The
 * database records the attempt, with `actor`, in the audit trail.
 */
export async function upsertProduct(
  pool: Pool,
  input: { productId: string; name: string | undefined; total: number },
  actor: AuditActor,
): Promise<UpsertProductResult> {
  const { rows } = await pool.query<{
    outcome: UpsertProductResult['outcome'];
    product_id: string;
    name: string;
    total: number;
    remaining: number;
    reserved: number;
  }>({
    name: 'upsert_product',
    text: 'select * from crs.upsert_product($1, $2, $3, $4)',
    values: [input.productId, input.name ?? null, input.total, actor],
  });
  const row = rows[0];
  if (!row) throw new Error('crs.upsert_product returned no row');
  return {
    outcome: row.outcome,
    reserved: row.reserved,
    stock: {
      productId: row.product_id,
      name: row.name,
      total: row.total,
      remaining: row.remaining,
      available: row.remaining > 0,
    },
  };
}
