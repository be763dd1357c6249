/**
 * Who may see an order: whoever holds its access token (Authorization: Bearer, or ?token= for
 * links and EventSource). No token: 401. Unknown order or wrong token: the same 404, so an
 * answer never reveals that an order exists.
 */
import type { Context } from 'koa';
import { notFound, unauthorized } from '../../common/errors.js';
import { getOrder, type StoredOrder } from '../../sql/getOrder.js';
import type { ApiDeps } from '../deps.js';
import { bearerToken } from '../../http/auth.js';
import { tokenMatches } from './accessToken.js';
import { ORDER_ID } from '../../common/identifiers.js';

export async function authorizeOrder(ctx: Context, deps: ApiDeps): Promise<StoredOrder> {
  const orderId = ctx.params['orderId'] ?? '';
  const token = bearerToken(ctx, { allowQuery: true });
  if (token === undefined) throw unauthorized();
  if (!ORDER_ID.test(orderId)) throw notFound('order');
  const order = await getOrder(deps.pool, orderId);
  if (!order || !tokenMatches(token, order.tokenHash)) throw notFound('order');
  return order;
}
