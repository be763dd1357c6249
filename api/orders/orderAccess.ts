/**
 * Who may see an order: whoever holds its access token (Authorization: Bearer, or ?token= for
 * links and EventSource). No token: 401. Unknown order or wrong token: the same 404, so an
 * answer never reveals that an order exists.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { notFound, unauthorized } from '../../common/errors.js';
import { getOrder, type StoredOrder } from '../../sql/getOrder.js';
import type { ApiDeps } from '../deps.js';
import { bearerToken } from '../../http/auth.js';
import { parseParams } from '../../http/validate.js';
import { tokenMatches } from './accessToken.js';
import { ORDER_ID, ORDER_ID_RULE } from '../../common/identifiers.js';

/** The path of every route about one order (/api/orders/:orderId and below). */
export const orderPath = z.object({
  orderId: z.string().regex(ORDER_ID, { message: ORDER_ID_RULE }).describe("The order's id"),
});

export async function authorizeOrder(ctx: Context, deps: ApiDeps): Promise<StoredOrder> {
  const token = bearerToken(ctx, { allowQuery: true });
  if (token === undefined) throw unauthorized();
  const { orderId } = parseParams(orderPath, ctx.params, () => notFound('order'));
  const order = await getOrder(deps.pool, orderId);
  if (!order || !tokenMatches(token, order.tokenHash)) throw notFound('order');
  return order;
}
