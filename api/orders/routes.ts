/**
 * POST /api/orders and GET /api/orders/:orderId.
 */
import { randomBytes } from 'node:crypto';
import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { AppError } from '../../common/errors.js';
import { placeOrder, type PlaceOrderResult } from '../database/placeOrder.js';
import type { ApiDeps } from '../deps.js';
import { readJsonBody } from '../http/body.js';
import { rateLimit } from '../http/rateLimit.js';
import { parseOrThrow } from '../http/validate.js';
import { makeDownloadLink } from '../vouchers/downloadLink.js';
import { authorizeOrder } from './orderAccess.js';
import { deriveAccessToken, newAccessToken } from './accessToken.js';
import { makeOrderRequestSchema } from './orderRequest.js';

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

const REFUSALS: Record<string, AppError> = {
  order_id_conflict: new AppError('order_id_conflict', 'This order id was already used with other details.', {
    status: 409,
  }),
  duplicate_customer: new AppError(
    'duplicate_customer',
    'This customer already holds an order for this product.',
    { status: 409 },
  ),
  out_of_stock: new AppError('out_of_stock', 'The product is out of stock.', { status: 409 }),
  unknown_product: new AppError('invalid_request', 'The request is not valid.', {
    status: 400,
    details: [{ field: 'productId', message: 'no such product' }],
  }),
};

export function makeOrderRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const schema = makeOrderRequestSchema(deps.config.defaultCountry);
  const base = deps.config.publicUrl ?? '';

  const limit: Middleware = deps.config.rateLimit
    ? rateLimit({
        limit: deps.config.orderRateLimitPerMinute,
        windowMs: 60_000,
        key: (ctx) => ctx.ip,
      })
    : (_ctx, next) => next();

  router.post('/api/orders', limit, async (ctx) => {
    const body = parseOrThrow(schema, await readJsonBody(ctx, deps.config.bodyLimitBytes));
    const productId = body.productId ?? deps.config.defaultProductId;
    if (await deps.stock.refuseWithoutDatabase(productId, body.orderId !== undefined)) {
      deps.metrics.orders.inc({ outcome: 'out_of_stock_flag' });
      throw REFUSALS['out_of_stock'];
    }
    // 128 random bits when the client did not choose an id.
    const orderId = body.orderId ?? randomBytes(16).toString('base64url');
    const token = newAccessToken(deps.config.orderTokenKey, orderId);
    const endTimer = deps.metrics.placeOrderSeconds.startTimer();
    let result: PlaceOrderResult;
    try {
      result = await placeOrder(deps.pool, {
        orderId,
        productId,
        customerKey: body.phone,
        firstName: body.firstName,
        lastName: body.lastName,
        phone: body.phone,
        tokenHash: token.hash,
        tokenSalt: token.salt,
      });
    } catch (err) {
      endTimer({ outcome: 'error' });
      deps.metrics.orders.inc({ outcome: 'error' });
      throw err;
    }
    endTimer({ outcome: result.outcome });
    deps.metrics.orders.inc({ outcome: result.outcome });

    if (result.outcome === 'reserved') {
      ctx.status = 201;
      ctx.set('Location', `${base}/api/orders/${orderId}`);
      ctx.body = reservedBody(base, orderId, token.token);
      return;
    }
    if (result.outcome === 'replay' && result.tokenSalt) {
      const again = deriveAccessToken(deps.config.orderTokenKey, orderId, result.tokenSalt);
      ctx.status = 200;
      ctx.set('Location', `${base}/api/orders/${orderId}`);
      ctx.body = reservedBody(base, orderId, again.token);
      return;
    }
    throw REFUSALS[result.outcome] ?? new Error(`unexpected outcome ${result.outcome}`);
  });

  router.get('/api/orders/:orderId', async (ctx) => {
    const order = await authorizeOrder(ctx, deps);
    ctx.set('Cache-Control', 'no-store');
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
  });

  return router;
}
