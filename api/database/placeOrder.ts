import type { Pool } from '../../common/db.js';

export type PlaceOrderOutcome =
  'reserved' | 'replay' | 'order_id_conflict' | 'duplicate_customer' | 'out_of_stock' | 'unknown_product';

export interface PlaceOrderInput {
  orderId: string;
  productId: string;
  customerKey: string;
  firstName: string;
  lastName: string;
  phone: string;
  tokenHash: Buffer;
  tokenSalt: Buffer;
}

export interface PlaceOrderResult {
  outcome: PlaceOrderOutcome;
  orderId: string;
  status: string | null;
  tokenSalt: Buffer | null;
  createdAt: Date | null;
}

/** One call of crs.place_order (sql/place_order.sql): the database decides. */
export async function placeOrder(pool: Pool, input: PlaceOrderInput): Promise<PlaceOrderResult> {
  const { rows } = await pool.query<{
    outcome: PlaceOrderOutcome;
    order_id: string;
    status: string | null;
    token_salt: Buffer | null;
    created_at: Date | null;
  }>({
    name: 'place_order',
    text: 'select * from crs.place_order($1, $2, $3, $4, $5, $6, $7, $8)',
    values: [
      input.orderId,
      input.productId,
      input.customerKey,
      input.firstName,
      input.lastName,
      input.phone,
      input.tokenHash,
      input.tokenSalt,
    ],
  });
  const row = rows[0];
  if (!row) throw new Error('crs.place_order returned no row');
  return {
    outcome: row.outcome,
    orderId: row.order_id,
    status: row.status,
    tokenSalt: row.token_salt,
    createdAt: row.created_at,
  };
}
