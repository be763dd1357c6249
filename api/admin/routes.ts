/**
 * PUT /api/admin/products/:productId: create a product or change its name and total; and
 * GET /api/admin/audit (auditRoutes.ts). Stock changes are recorded in the audit trail by the
 * database, with who asked (auditActor.ts).
 */
import { Router } from '@koa/router';
import { z } from 'zod';
import { AppError } from '../../common/errors.js';
import { upsertProduct } from '../../sql/stock.js';
import type { ApiDeps } from '../deps.js';
import { requireToken } from '../../http/auth.js';
import { readJsonBody } from '../../http/body.js';
import {
  displayText,
  parseOrThrow,
  parseParams,
  productIdField,
  takesParameters,
  type ParameterSchemas,
} from '../../http/validate.js';
import { auditActor } from './auditActor.js';
import { addAuditRoutes } from './auditRoutes.js';
import { MAX_TOTAL } from '../../common/identifiers.js';

const productPath = z.object({ productId: productIdField().describe('The product, made if new') });

/** PUT /api/admin/products/:productId (the body: productUpdateSchema). */
export const productParameters: ParameterSchemas = { path: productPath };

export const productUpdateSchema = z.strictObject(
  {
    name: displayText(120).optional(),
    total: z
      .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a number') })
      .int({ message: 'must be a whole number' })
      .min(0, { message: 'must not be negative' })
      .max(MAX_TOTAL, { message: `must be at most ${MAX_TOTAL}` }),
  },
  { error: (issue) => (issue.input === undefined ? 'is required' : 'must be a JSON object') },
);

export function makeAdminRoutes(deps: ApiDeps): Router {
  const router = new Router();
  router.put(
    '/api/admin/products/:productId',
    requireToken(deps, 'admin'),
    takesParameters(productParameters, async (ctx) => {
      // Before the body is read: a wrong id is the one problem reported.
      const { productId } = parseParams(productPath, ctx.params);
      const body = parseOrThrow(productUpdateSchema, await readJsonBody(ctx, deps.config.bodyLimitBytes));
      const result = await upsertProduct(
        deps.pool,
        { productId, name: body.name, total: body.total },
        auditActor(ctx, 'admin', deps.config.adminToken),
      );
      if (result.outcome === 'below_reserved') {
        throw new AppError(
          'below_reserved',
          `The total cannot go below the ${result.reserved} units already reserved.`,
          { status: 409, details: { reserved: result.reserved, total: result.stock.total } },
        );
      }
      deps.log.info(
        { productId, total: body.total, outcome: result.outcome, requestId: ctx.state['requestId'] },
        'product stock changed by admin',
      );
      ctx.status = result.outcome === 'created' ? 201 : 200;
      ctx.body = result.stock;
    }),
  );
  addAuditRoutes(router, deps);
  return router;
}
