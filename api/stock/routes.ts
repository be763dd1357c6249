/**
 * GET /api/stock: the product's stock, from the CDC stock flag or else Postgres.
 * GET /api/stock/events: the same, pushed (SSE) as it changes: the page's live stock.
 */
import { Router } from '@koa/router';
import { z } from 'zod';
import { notFound } from '../../common/errors.js';
import type { Stock } from '../../sql/stock.js';
import type { ApiDeps } from '../deps.js';
import { checkStreamCapacity, startEventStream } from '../../http/eventStream.js';
import { parseParams, takesParameters, type ParameterSchemas } from '../../http/validate.js';
import { PRODUCT_ID, PRODUCT_ID_RULE } from '../../common/identifiers.js';

// Given twice (an array), it is as wrong as a malformed one: the same message.
const stockQuery = z.object({
  productId: z
    .string({ error: PRODUCT_ID_RULE })
    .regex(PRODUCT_ID, { message: PRODUCT_ID_RULE })
    .optional()
    .describe('The product; the default product if not given'),
});

/** GET /api/stock and GET /api/stock/events (and the ordering page, web/pageRoutes.ts). */
export const stockParameters: ParameterSchemas = { query: stockQuery };

/** ?productId= if given and well-formed, else the default product. */
export function productIdFromQuery(query: Record<string, unknown>, fallback: string): string {
  return parseParams(stockQuery, query).productId ?? fallback;
}

const COALESCE_MS = 250;

export function makeStockRoutes(deps: ApiDeps): Router {
  const router = new Router();
  router.get(
    '/api/stock',
    takesParameters(stockParameters, async (ctx) => {
      const productId = productIdFromQuery(ctx.query, deps.config.defaultProductId);
      const stock = await deps.stock.get(productId);
      if (!stock) throw notFound('product');
      const { source, ...body } = stock;
      ctx.set('Cache-Control', 'no-cache');
      ctx.set('X-Stock-Source', source);
      ctx.body = body;
    }),
  );

  router.get(
    '/api/stock/events',
    takesParameters(stockParameters, async (ctx) => {
      const productId = productIdFromQuery(ctx.query, deps.config.defaultProductId);
      checkStreamCapacity(deps, [{ address: ctx.ip }]);
      const current = await deps.stock.get(productId);
      if (!current) throw notFound('product');
      const stream = startEventStream(ctx, deps, [{ address: ctx.ip }]);
      // During a sale the stock changes with every order: each stream gets at most one event
      // per COALESCE_MS, always the newest.
      let lastSentAt = 0;
      let pending: Stock | undefined;
      let timer: NodeJS.Timeout | undefined;
      const flush = () => {
        timer = undefined;
        if (!pending) return;
        const { productId: id, name, total, remaining, available } = pending;
        pending = undefined;
        lastSentAt = Date.now();
        stream.send('stock', { productId: id, name, total, remaining, available });
      };
      const onStock = (stock: Stock) => {
        pending = stock;
        if (timer) return;
        timer = setTimeout(flush, Math.max(0, lastSentAt + COALESCE_MS - Date.now()));
      };
      stream.onClose(() => clearTimeout(timer));
      stream.onClose(deps.stockEvents.listen(productId, onStock));
      onStock(current);
    }),
  );
  return router;
}
