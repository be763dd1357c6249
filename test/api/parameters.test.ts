/**
 * Path and query parameters: parsed by the routes with zod (parseParams), listed in the OpenAPI
 * document from the same schemas (parametersFrom). No services: schemas and functions only.
 */
import t from 'tap';
import { z } from 'zod';
import { parametersFrom } from '../../api/openapi/parameters.js';
import { orderPath } from '../../api/orders/orderAccess.js';
import { productIdFromQuery, stockParameters } from '../../api/stock/routes.js';
import { auditQuerySchema } from '../../api/admin/auditRoutes.js';
import { AppError, notFound } from '../../common/errors.js';
import { ORDER_ID, PRODUCT_ID, PRODUCT_ID_RULE } from '../../common/identifiers.js';
import { parseParams } from '../../http/validate.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (thrown) {
    if (thrown instanceof AppError) return thrown;
    throw thrown;
  }
  throw new Error('not refused');
};

t.test('a parameter the route refuses is named as the client sent it', async (t) => {
  const repeated = refusal(() =>
    parseParams(z.object({ exclude: z.array(z.enum(['postgres'])) }), { exclude: ['postgres', 'redis'] }),
  );
  t.equal(repeated.code, 'invalid_request');
  t.same(
    (repeated.details as { field: string }[]).map((problem) => problem.field),
    ['exclude'],
    'exclude, not exclude.1',
  );
  const unknown = refusal(() => parseParams(auditQuerySchema, { other: '1' }));
  t.same(unknown.details, [{ field: 'other', message: 'is not a known field' }]);
});

t.test('a route may answer a malformed id as it answers an unknown one', async (t) => {
  const refused = refusal(() => parseParams(orderPath, { orderId: 'short' }, () => notFound('order')));
  t.equal(refused.status, 404);
  t.equal(refused.code, 'not_found');
});

t.test('productIdFromQuery keeps its answers: the default, the id, or the rule', async (t) => {
  t.equal(productIdFromQuery({}, 'default'), 'default');
  t.equal(productIdFromQuery({ productId: 'tee', other: 'x' }, 'default'), 'tee');
  for (const productId of ['bad id', ['a', 'b'], '']) {
    t.same(refusal(() => productIdFromQuery({ productId }, 'default')).details, [
      { field: 'productId', message: PRODUCT_ID_RULE },
    ]);
  }
});

t.test('the audit paging reads integers and defaults the page size', async (t) => {
  t.same(parseParams(auditQuerySchema, {}), { limit: 50 });
  t.same(parseParams(auditQuerySchema, { limit: '5', before: '12' }), { limit: 5, before: 12 });
  t.same(refusal(() => parseParams(auditQuerySchema, { limit: '501' })).details, [
    { field: 'limit', message: 'must be at most 500' },
  ]);
  t.same(refusal(() => parseParams(auditQuerySchema, { limit: ['1', '2'] })).details, [
    { field: 'limit', message: 'must be given once, as a whole number' },
  ]);
});

t.test('parameters are documented from the schemas, with the shared identifier rules', async (t) => {
  t.same(parametersFrom({ path: orderPath }), [
    {
      name: 'orderId',
      in: 'path',
      required: true,
      description: "The order's id",
      schema: { type: 'string', pattern: ORDER_ID.source },
    },
  ]);
  t.same(parametersFrom(stockParameters), [
    {
      name: 'productId',
      in: 'query',
      required: false,
      description: 'The product; the default product if not given',
      schema: { type: 'string', pattern: PRODUCT_ID.source },
    },
  ]);
  const [limit] = parametersFrom({ query: auditQuerySchema });
  t.match(limit, {
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  });
});

t.test('a schema the document cannot describe fails at once, not as an empty schema', async (t) => {
  t.throws(() => parametersFrom({ query: z.object({ n: z.string().transform(Number) }) }));
  t.throws(() => parametersFrom({ path: z.object({ id: z.string().optional() }) }), /must be required/);
});
