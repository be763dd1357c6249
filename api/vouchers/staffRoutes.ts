/**
 * Staff: look up a coupon and redeem it once (staff token). Codes are read generously:
 * any case, with or without separators (see couponCode.ts).
 */
import { Router } from '@koa/router';
import { z } from 'zod';
import { AppError, notFound } from '../../common/errors.js';
import { auditActor } from '../admin/auditActor.js';
import { lookupVoucher, redeemVoucher } from '../../sql/vouchers.js';
import type { ApiDeps } from '../deps.js';
import { requireToken } from '../../http/auth.js';
import { parseParams, takesParameters, type ParameterSchemas } from '../../http/validate.js';
import { normaliseCouponCode } from '../../common/identifiers.js';

/** A coupon code as typed, read in its one printed form; anything else is no coupon (404). */
const couponCode = z
  .string()
  .transform((given, ctx) => {
    const code = normaliseCouponCode(given);
    if (code === undefined) ctx.addIssue({ code: 'custom', message: 'is not a coupon code' });
    return code ?? z.NEVER;
  })
  // Names the type the handler gets, which the document can say (a bare transform it cannot).
  .pipe(z.string())
  .describe('The coupon code: any case, with or without separators and spaces');

const couponPath = z.object({ code: couponCode });

/** GET /api/vouchers/:code and POST /api/vouchers/:code/redeem. */
export const couponParameters: ParameterSchemas = { path: couponPath };

export const alreadyRedeemed = (redeemedAt: Date | null) =>
  new AppError('already_redeemed', 'This coupon was already redeemed.', {
    status: 409,
    details: { redeemedAt: redeemedAt?.toISOString() },
  });

export const cancelledCoupon = () =>
  new AppError('already_redeemed', 'This order was cancelled; its coupon cannot be redeemed.', {
    status: 409,
  });

export function makeStaffRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const staff = requireToken(deps, 'staff');

  router.get(
    '/api/vouchers/:code',
    staff,
    takesParameters(couponParameters, async (ctx) => {
      const { code } = parseParams(couponPath, ctx.params, () => notFound('voucher'));
      const voucher = await lookupVoucher(deps.pool, code);
      if (!voucher) throw notFound('voucher');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        code: voucher.code,
        orderId: voucher.orderId,
        productId: voucher.productId,
        status: voucher.status,
        ...(voucher.redeemedAt ? { redeemedAt: voucher.redeemedAt.toISOString() } : {}),
      };
    }),
  );

  router.post(
    '/api/vouchers/:code/redeem',
    staff,
    takesParameters(couponParameters, async (ctx) => {
      const { code } = parseParams(couponPath, ctx.params, () => notFound('voucher'));
      const result = await redeemVoucher(
        deps.pool,
        code,
        'staff',
        auditActor(ctx, 'staff', deps.config.staffToken),
      );
      if (result.outcome === 'not_found') throw notFound('voucher');
      if (result.outcome === 'already_redeemed') throw alreadyRedeemed(result.redeemedAt);
      if (result.outcome === 'cancelled') throw cancelledCoupon();
      deps.log.info({ orderId: result.orderId, requestId: ctx.state['requestId'] }, 'coupon redeemed');
      ctx.body = {
        status: 'redeemed',
        orderId: result.orderId,
        redeemedAt: result.redeemedAt?.toISOString(),
      };
    }),
  );

  return router;
}
