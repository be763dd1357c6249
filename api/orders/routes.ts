/**
 * POST /api/orders and GET /api/orders/:orderId. One route per action, two answers: JSON for
 * API clients, HTML for the web page (a form post, or an htmx request), chosen by content
 * negotiation; the decision (takeOrder) and its error codes are the same for both.
 */
import { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { AppError } from '../../common/errors.js';
import type { StoredOrder } from '../../sql/getOrder.js';
import type { ApiDeps } from '../deps.js';
import { isFormPost, readJsonBody } from '../../http/body.js';
import { limitRequests } from '../../http/rateLimit.js';
import { takesParameters, type ParameterSchemas } from '../../http/validate.js';
import { makeDownloadLink } from '../vouchers/downloadLink.js';
import { authorizeOrder, orderPath } from './orderAccess.js';
import { makeTakeOrder, type TakeOrder } from './takeOrder.js';

/** The body of a reservation; a replay answers with exactly this again. */
export interface ReservedBody {
  orderId: string;
  status: 'reserved';
  accessToken: string;
  links: { self: string; events: string; voucher: string };
}

function reservedBody(base: string, orderId: string, accessToken: string): ReservedBody {
  const self = `${base}/api/orders/${orderId}`;
  return {
    orderId,
    status: 'reserved',
    accessToken,
    links: { self, events: `${self}/events`, voucher: `${self}/voucher` },
  };
}

/** GET /api/orders/:orderId (parsed by authorizeOrder). */
export const orderParameters: ParameterSchemas = { path: orderPath };

/** How the web pages answer these routes for a browser (web/orderResponder.ts). */
export interface OrderHtmlResponder {
  /** Whether a GET should be answered with HTML (an htmx request, or a browser asking for it). */
  wantsHtml(ctx: Context): boolean;
  /** A form post: read, check CSRF, take the order, answer with a fragment or a redirect. */
  placeFromForm(ctx: Context, take: TakeOrder): Promise<void>;
  /** The order's status as an HTML fragment. */
  renderOrder(ctx: Context, order: StoredOrder): void;
  /** Errors as HTML; set as ctx.state.renderError for renderErrors (http/errors.ts). */
  renderError(ctx: Context, err: AppError): Promise<void>;
}

export function makeOrderRoutes(deps: ApiDeps, html?: OrderHtmlResponder): Router {
  const router = new Router();
  const base = deps.config.publicUrl ?? '';
  const take = makeTakeOrder(deps);

  // Per client address, before the body is even read; the per-customer limit needs the
  // parsed phone, so it runs in takeOrder (for the JSON and the form path alike).
  const limit = limitRequests(deps.limits.ordersPerAddress, (ctx) => ctx.ip);

  /** Browsers get their errors (a 429 from the limit, too) as HTML. */
  const htmlErrors =
    (when: (ctx: Context) => boolean): Middleware =>
    async (ctx, next) => {
      if (html && when(ctx)) ctx.state['renderError'] = html.renderError;
      await next();
    };

  router.post(
    '/api/orders',
    htmlErrors((ctx) => isFormPost(ctx) && (html?.wantsHtml(ctx) ?? false)),
    limit,
    async (ctx) => {
      ctx.vary('Content-Type');
      if (html && isFormPost(ctx)) {
        await html.placeFromForm(ctx, take);
        return;
      }
      const taken = await take(await readJsonBody(ctx, deps.config.bodyLimitBytes));
      ctx.status = taken.status;
      ctx.set('Location', `${base}/api/orders/${taken.orderId}`);
      ctx.body = reservedBody(base, taken.orderId, taken.accessToken);
    },
  );

  router.get(
    '/api/orders/:orderId',
    htmlErrors((ctx) => html?.wantsHtml(ctx) ?? false),
    takesParameters(orderParameters, async (ctx) => {
      const order = await authorizeOrder(ctx, deps);
      ctx.set('Cache-Control', 'no-store');
      ctx.vary('Accept');
      ctx.vary('HX-Request');
      if (html?.wantsHtml(ctx)) {
        html.renderOrder(ctx, order);
        return;
      }
      ctx.body = {
        orderId: order.orderId,
        productId: order.productId,
        status: order.status,
        createdAt: order.createdAt.toISOString(),
        ...(order.voucherKey && order.voucherStoredAt
          ? {
              voucher: {
                url: makeDownloadLink(base, deps.config.orderTokenKey, order.orderId),
                storedAt: order.voucherStoredAt.toISOString(),
              },
            }
          : {}),
        ...(order.redeemedAt ? { redeemedAt: order.redeemedAt.toISOString() } : {}),
      };
    }),
  );

  return router;
}
