/** GET /api/stock: the product's stock (from Postgres until the CDC flag takes over). */
import { Router } from '@koa/router';
import { invalidRequest, notFound } from '../../common/errors.js';
import { getStock } from '../database/stock.js';
import type { ApiDeps } from '../deps.js';
import { PRODUCT_ID } from '../http/validate.js';

/** ?productId= if given and well-formed, else the default product. */
export function productIdFromQuery(query: Record<string, unknown>, fallback: string): string {
  const given = query['productId'];
  if (given === undefined) return fallback;
  if (typeof given !== 'string' || !PRODUCT_ID.test(given)) {
    throw invalidRequest([{ field: 'productId', message: 'must be 1 to 64 characters of A-Z a-z 0-9 _ -' }]);
  }
  return given;
}

export function makeStockRoutes(deps: ApiDeps): Router {
  const router = new Router();
  router.get('/api/stock', async (ctx) => {
    const productId = productIdFromQuery(ctx.query, deps.config.defaultProductId);
    const stock = await getStock(deps.pool, productId);
    if (!stock) throw notFound('product');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = stock;
  });
  return router;
}
