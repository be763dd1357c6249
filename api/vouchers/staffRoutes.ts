/**
 * Staff: look up a coupon and redeem it once (staff token). Codes are read generously:
 * any case, with or without separators (see couponCode.ts).
 */
import { Router } from '@koa/router';
import { AppError, notFound } from '../../common/errors.js';
import type { ApiDeps } from '../deps.js';
import { requireToken } from '../http/auth.js';
import { normaliseCouponCode } from './couponCode.js';

export function makeStaffRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const staff = requireToken(deps.config.staffToken);

  router.get('/api/vouchers/:code', staff, async (ctx) => {
    const code = normaliseCouponCode(ctx.params['code'] ?? '');
    if (!code) throw notFound('voucher');
    const { rows } = await deps.pool.query<{
      code: string;
      order_id: string;
      product_id: string;
      status: string;
      redeemed_at: Date | null;
    }>({ name: 'get_voucher', text: 'select * from crs.get_voucher($1)', values: [code] });
    const row = rows[0];
    if (!row) throw notFound('voucher');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      code: row.code,
      orderId: row.order_id,
      productId: row.product_id,
      status: row.status,
      ...(row.redeemed_at ? { redeemedAt: row.redeemed_at.toISOString() } : {}),
    };
  });

  router.post('/api/vouchers/:code/redeem', staff, async (ctx) => {
    const code = normaliseCouponCode(ctx.params['code'] ?? '');
    if (!code) throw notFound('voucher');
    const { rows } = await deps.pool.query<{
      outcome: string;
      order_id: string | null;
      redeemed_at: Date | null;
    }>({ name: 'redeem_voucher', text: 'select * from crs.redeem_voucher($1, $2)', values: [code, 'staff'] });
    const row = rows[0];
    if (!row || row.outcome === 'not_found') throw notFound('voucher');
    if (row.outcome === 'already_redeemed') {
      throw new AppError('already_redeemed', 'This coupon was already redeemed.', {
        status: 409,
        details: { redeemedAt: row.redeemed_at?.toISOString() },
      });
    }
    if (row.outcome === 'cancelled') {
      throw new AppError('already_redeemed', 'This order was cancelled; its coupon cannot be redeemed.', {
        status: 409,
      });
    }
    deps.log.info({ orderId: row.order_id, requestId: ctx.state['requestId'] }, 'coupon redeemed');
    ctx.body = { status: 'redeemed', orderId: row.order_id, redeemedAt: row.redeemed_at?.toISOString() };
  });

  return router;
}
