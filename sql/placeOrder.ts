import type { Pool } from '../common/db.js';

export type PlaceOrderOutcome =
  | 'reserved'
  | 'replay'
  | 'order_id_conflict'
  | 'duplicate_customer'
  | 'out_of_stock'
  | 'unknown_product'
  /** Still short of stock after 2 s while other transactions held some: retry later. */
  | 'busy';

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

/**
 * One call of crs.place_orders (sql/place_order.sql) for a batch: the database decides every
 * order in one transaction and answers each in the order given. Throws only when the whole
 * call failed, and then nothing of the batch was written.
 */
export async function placeOrders(
  pool: Pool,
  inputs: readonly PlaceOrderInput[],
): Promise<PlaceOrderResult[]> {
  const { rows } = await pool.query<{
    idx: number;
    outcome: PlaceOrderOutcome;
    order_id: string;
    status: string | null;
    token_salt: Buffer | null;
    created_at: Date | null;
  }>({
    name: 'place_orders',
    text: 'select * from crs.place_orders($1, $2, $3, $4, $5, $6, $7, $8)',
    values: [
      inputs.map((o) => o.orderId),
      inputs.map((o) => o.productId),
      inputs.map((o) => o.customerKey),
      inputs.map((o) => o.firstName),
      inputs.map((o) => o.lastName),
      inputs.map((o) => o.phone),
      inputs.map((o) => o.tokenHash),
      inputs.map((o) => o.tokenSalt),
    ],
  });
  if (rows.length !== inputs.length) {
    throw new Error(`crs.place_orders answered ${rows.length} rows for ${inputs.length} orders`);
  }
  const results = new Array<PlaceOrderResult>(inputs.length);
  for (const row of rows) {
    results[row.idx - 1] = {
      outcome: row.outcome,
      orderId: row.order_id,
      status: row.status,
      tokenSalt: row.token_salt,
      createdAt: row.created_at,
    };
  }
  return results;
}
