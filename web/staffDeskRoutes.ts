/**
 * /staff: scan a voucher's QR code (or type its code), see whose it is, and redeem it once. The same database calls as the staff API
 * (api/vouchers/staffRoutes.ts), behind a staff session instead of a bearer token.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { auditActor } from '../api/admin/auditActor.js';
import { lookupDeskVoucher, redeemVoucher } from '../sql/vouchers.js';
import { isHtmx, stringsOf, readCheckedForm, type WebKit } from './kit.js';
import { page, setPageHeaders } from './pages/layout.js';
import { lookupResult, signOutForm, staffDesk, type LookupResult } from './pages/rolePages.js';
import { makeRolePages } from './roleAuth.js';
import { normaliseCouponCode } from '../common/identifiers.js';

export function makeStaffPages(kit: WebKit): Router {
  const { deps } = kit;
  const { router, session, signedIn } = makeRolePages(kit, 'staff');

  /** The desk page, or only its result for htmx. */
  const answer = (ctx: Context, code: string, result: LookupResult) => {
    const t = stringsOf(ctx);
    const csrf = kit.csrf.token(ctx);
    ctx.body = isHtmx(ctx)
      ? lookupResult(t, result, csrf).text
      : page(
          { t, assets: kit.assets },
          {
            title: t.staff.title,
            main: staffDesk(t, { code, result, csrf }),
            nav: signOutForm(t, session.path, csrf),
            scripts: ['jsQR.js', 'scan.js'],
          },
        );
    setPageHeaders(ctx);
  };

  router.get('/staff', signedIn, async (ctx) => {
    const given = typeof ctx.query['code'] === 'string' ? ctx.query['code'].slice(0, 64) : '';
    if (given.trim() === '') return answer(ctx, '', { kind: 'none' });
    const code = normaliseCouponCode(given);
    const voucher = code ? await lookupDeskVoucher(deps.pool, code) : undefined;
    if (!voucher) {
      ctx.status = 404;
      return answer(ctx, given, { kind: 'not_found', code: given });
    }
    answer(ctx, given, { kind: 'found', voucher });
  });

  router.post('/staff/redeem', signedIn, async (ctx) => {
    const fields = await readCheckedForm(kit, ctx);
    const given = fields['code'] ?? '';
    const code = normaliseCouponCode(given);
    const actor = auditActor(ctx, 'staff', deps.config.staffToken, ctx.cookies.get('crs_staff'));
    const result = code ? await redeemVoucher(deps.pool, code, 'staff', actor) : undefined;
    if (!code || !result || result.outcome === 'not_found') {
      ctx.status = 404;
      return answer(ctx, given, { kind: 'not_found', code: given });
    }
    const voucher = await lookupDeskVoucher(deps.pool, code);
    if (result.outcome !== 'redeemed' || !voucher) {
      ctx.status = 409;
      return answer(ctx, given, { kind: 'refused', voucher, redeemedAt: result.redeemedAt });
    }
    deps.log.info(
      { orderId: result.orderId, requestId: ctx.state['requestId'], via: 'staff page' },
      'coupon redeemed',
    );
    answer(ctx, given, { kind: 'redeemed', voucher });
  });

  return router;
}
