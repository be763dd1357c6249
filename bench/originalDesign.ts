/**
 * The original design's decision as a DecideOrder: one bench_original.place_order call per
 * order (both tables ACCESS EXCLUSIVE, one transaction each; bench/db/original.sql, installed
 * only in the bench database, run as its owner). Used behind the API (bench/benchApi.ts) and
 * directly (the intake scenario's database path), so both measure the same call.
 */
import type { Pool } from '../common/db.js';
import type { PlaceOrderInput, PlaceOrderResult } from '../sql/placeOrder.js';
import type { DecideOrder } from '../api/orders/orderIntake.js';

export function originalDecision(owner: Pool): DecideOrder {
  return async (input: PlaceOrderInput): Promise<PlaceOrderResult> => {
    const { rows } = await owner.query<{ outcome: PlaceOrderResult['outcome']; status: string | null }>({
      name: 'original_place_order',
      text: 'select outcome, status from bench_original.place_order($1, $2, $3, $4, $5, $6, $7, $8)',
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
    if (!row) throw new Error('bench_original.place_order returned no row');
    // The original stored no tokens: a replay cannot re-derive one, so the bench never replays.
    return {
      outcome: row.outcome,
      orderId: input.orderId,
      status: row.status,
      tokenSalt: null,
      createdAt: null,
    };
  };
}
