/** GET /api/stock: the product's stock, from the CDC stock flag or else Postgres. */
import { Router } from '@koa/router';
import { invalidRequest, notFound } from '../../common/errors.js';
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
    const stock = await deps.stock.get(productId);
    if (!stock) throw notFound('product');
    const { source, ...body } = stock;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Stock-Source', source);
    ctx.body = body;
  });
  return router;
}
