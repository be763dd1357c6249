/**
 * /admin: every product's stock with a form to change its total, the latest orders of one
 * product, and the latest entries of the audit trail. The total goes through the same
 * crs.upsert_product as the admin API, which records who changed it.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { auditActor } from '../api/admin/auditActor.js';
import { listOrders, listProducts, readAuditLog } from '../api/database/admin.js';
import { getStock, upsertProduct } from '../api/database/stock.js';
import { PRODUCT_ID } from '../api/http/validate.js';
import { MAX_TOTAL } from '../api/admin/routes.js';
import { productIdFromQuery } from '../api/stock/routes.js';
import { invalidRequest, notFound } from '../common/errors.js';
import { html } from './html.js';
import { isHtmx, stringsOf, readCheckedForm, type WebKit } from './kit.js';
import { page, setPageHeaders } from './pages/layout.js';
import { auditTable, ordersTable, productsTable, signOutForm } from './pages/rolePages.js';
import { makeRolePages } from './roleAuth.js';

const ORDERS_SHOWN = 50;
const AUDIT_SHOWN = 20;

export function makeAdminPages(kit: WebKit): Router {
  const { deps } = kit;
  const { router, session, signedIn } = makeRolePages(kit, 'admin');

  const render = async (
    ctx: Context,
    productId: string,
    notes: { message?: string; error?: string } = {},
  ) => {
    const t = stringsOf(ctx);
    const csrf = kit.csrf.token(ctx);
    const products = await listProducts(deps.pool);
    const table = productsTable(t, { products, csrf, ...notes });
    if (isHtmx(ctx)) {
      ctx.body = table.text;
    } else {
      const product = products.find((p) => p.productId === productId);
      const orders = product ? await listOrders(deps.pool, productId, ORDERS_SHOWN) : [];
      const audit = await readAuditLog(deps.pool, { limit: AUDIT_SHOWN });
      ctx.body = page(
        { t, assets: kit.assets },
        {
          title: t.admin.title,
          main: html`<h1>${t.admin.title}</h1>
            ${table}${product ? ordersTable(t, product.name, orders) : ''}${auditTable(t, audit)}`,
          nav: signOutForm(t, session.path, csrf),
          wide: true,
        },
      );
    }
    setPageHeaders(ctx);
  };

  router.get('/admin', signedIn, async (ctx) => {
    await render(ctx, productIdFromQuery(ctx.query, deps.config.defaultProductId));
  });

  router.post('/admin/products/:productId', signedIn, async (ctx) => {
    const productId = ctx.params['productId'] ?? '';
    if (!PRODUCT_ID.test(productId)) throw notFound('product');
    const fields = await readCheckedForm(kit, ctx);
    const t = stringsOf(ctx);
    const total = Number(fields['total']);
    if (!/^\d{1,10}$/.test(fields['total'] ?? '') || total > MAX_TOTAL) {
      ctx.status = 400;
      const problem = { field: 'total', message: `must be a whole number from 0 to ${MAX_TOTAL}` };
      return render(ctx, productId, { error: `${t.admin.total} ${problem.message}.` });
    }
    if (!(await getStock(deps.pool, productId)))
      throw invalidRequest([{ field: 'productId', message: 'no such product' }]);
    const result = await upsertProduct(
      deps.pool,
      { productId, name: undefined, total },
      auditActor(ctx, 'admin', deps.config.adminToken, ctx.cookies.get('crs_admin')),
    );
    if (result.outcome === 'below_reserved') {
      ctx.status = 409;
      return render(ctx, productId, { error: t.admin.belowReserved(result.reserved) });
    }
    deps.log.info(
      { productId, total, outcome: result.outcome, requestId: ctx.state['requestId'], via: 'admin page' },
      'product stock changed by admin',
    );
    await render(ctx, productId, { message: t.admin.saved(productId, total) });
  });

  return router;
}
