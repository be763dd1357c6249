/**
 * /admin: search for an order (id, coupon code, phone or name), every product's stock with a
 * form to change its total, one product's orders a page at a time with a CSV export of all of
 * them, and the audit trail a page at a time. The total goes through the same
 * crs.upsert_product as the admin API, which records who changed it.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { auditActor } from '../api/admin/auditActor.js';
import { Readable } from 'node:stream';
import {
  exportOrders,
  productsPage,
  ordersPage,
  parseOrderSearch,
  pipelineStatus,
  readAuditLog,
  searchOrders,
  type OrderCursor,
} from '../sql/admin.js';
import { getStock, upsertProduct } from '../sql/stock.js';
import { productIdFromQuery } from '../api/stock/routes.js';
import { invalidRequest, notFound } from '../common/errors.js';
import { html } from './html.js';
import { isHtmx, stringsOf, readCheckedForm, type WebKit } from './kit.js';
import { page as pageOf, setPageHeaders } from './pages/layout.js';
import {
  auditTable,
  ordersTable,
  pipelinePanel,
  productsTable,
  searchSection,
  signOutForm,
} from './pages/rolePages.js';
import { checkStreamCapacity, startEventStream } from '../http/eventStream.js';
import { makeRolePages } from './roleAuth.js';
import { MAX_TOTAL, ORDER_ID, PRODUCT_ID } from '../common/identifiers.js';

const ORDERS_SHOWN = 50;
const AUDIT_SHOWN = 20;
const FOUND_SHOWN = 50;
const PRODUCTS_SHOWN = 25;
/** The pipeline panel: its chart's minutes, and how often a stream sends the figures. */
const PIPELINE_MINUTES = 30;
const PIPELINE_EVERY_MS = 2_000;
/** A page's place in the URL: Postgres's time text and the order id (sql/admin.ts). */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** What the page shows, from its query string; a malformed one is a 400, never a guess. */
interface AdminView {
  productId: string;
  query: string;
  ordersBefore: OrderCursor | undefined;
  auditBefore: number | undefined;
  /** The products page starts after this id. */
  productsAfter: string | undefined;
}

function readView(ctx: Context, defaultProductId: string): AdminView {
  const text = (name: string) =>
    typeof ctx.query[name] === 'string' ? (ctx.query[name] as string) : undefined;
  const problems: { field: string; message: string }[] = [];
  const beforeAt = text('beforeAt');
  const beforeOrder = text('beforeOrder');
  if ((beforeAt === undefined) !== (beforeOrder === undefined)) {
    problems.push({ field: 'beforeAt', message: 'beforeAt and beforeOrder come together' });
  } else if (beforeAt !== undefined && (!CURSOR_TIME.test(beforeAt) || !ORDER_ID.test(beforeOrder ?? ''))) {
    problems.push({ field: 'beforeAt', message: 'is not a place in the list of orders' });
  }
  const auditBefore = text('auditBefore');
  if (auditBefore !== undefined && !/^[1-9]\d{0,15}$/.test(auditBefore)) {
    problems.push({ field: 'auditBefore', message: 'must be an audit entry id' });
  }
  const productsAfter = text('productsAfter') || undefined;
  if (productsAfter !== undefined && !PRODUCT_ID.test(productsAfter)) {
    problems.push({ field: 'productsAfter', message: 'must be a product id' });
  }
  const query = text('q') ?? '';
  if (query.length > 100) problems.push({ field: 'q', message: 'must be at most 100 characters' });
  if (problems.length > 0) throw invalidRequest(problems);
  return {
    productId: productIdFromQuery(ctx.query, defaultProductId),
    query,
    ordersBefore: beforeAt && beforeOrder ? { createdAt: beforeAt, orderId: beforeOrder } : undefined,
    auditBefore: auditBefore === undefined ? undefined : Number(auditBefore),
    productsAfter,
  };
}

/** /admin with these query parameters (the others dropped). */
function adminUrl(params: Record<string, string | undefined>, anchor: string): string {
  const query = new URLSearchParams(
    Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return `/admin?${query.toString()}#${anchor}`;
}

/** One CSV field: quoted when needed, and never read as a formula by a spreadsheet. */
function csvField(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
const CSV_HEADER =
  'order_id,status,first_name,last_name,phone,coupon_code,created_at,voucher_stored_at,redeemed_at\r\n';

export function makeAdminPages(kit: WebKit): Router {
  const { deps } = kit;
  const { router, session, signedIn } = makeRolePages(kit, 'admin');

  const render = async (ctx: Context, view: AdminView, notes: { message?: string; error?: string } = {}) => {
    const t = stringsOf(ctx);
    const csrf = kit.csrf.token(ctx);
    const { productId } = view;
    const { products, next } = await productsPage(deps.pool, {
      limit: PRODUCTS_SHOWN,
      after: view.productsAfter,
    });
    const here = { productId, q: view.query || undefined };
    const table = productsTable(t, {
      products,
      csrf,
      ...notes,
      after: view.productsAfter,
      next: next ? adminUrl({ ...here, productsAfter: next }, 'products') : undefined,
      first: view.productsAfter ? adminUrl(here, 'products') : undefined,
    });
    if (isHtmx(ctx)) {
      ctx.body = table.text;
    } else {
      // The product shown may be on another page of products than this one. The page's reads
      // are independent: they go to the pool together.
      const search = parseOrderSearch(view.query, deps.config.defaultCountry);
      const [product, found, audit] = await Promise.all([
        getStock(deps.pool, productId),
        search ? searchOrders(deps.pool, search, FOUND_SHOWN) : undefined,
        readAuditLog(deps.pool, { limit: AUDIT_SHOWN, before: view.auditBefore }),
      ]);
      const [page, pipeline] = product
        ? await Promise.all([
            ordersPage(deps.pool, productId, { limit: ORDERS_SHOWN, before: view.ordersBefore }),
            pipelineStatus(deps.pool, productId, PIPELINE_MINUTES),
          ])
        : [undefined, undefined];
      const lastAudit = audit[audit.length - 1];
      ctx.body = pageOf(
        { t, assets: kit.assets },
        {
          title: t.admin.title,
          main: html`<h1>${t.admin.title}</h1>
            ${
              product && pipeline
                ? pipelinePanel(t, { productId, productName: product.name, stock: product, status: pipeline })
                : ''
            }${searchSection(t, { query: view.query, found })}${table}${
              product && page
                ? ordersTable(t, {
                    productId,
                    productName: product.name,
                    orders: page.orders,
                    older: page.next
                      ? adminUrl(
                          { ...here, beforeAt: page.next.createdAt, beforeOrder: page.next.orderId },
                          'orders',
                        )
                      : undefined,
                    newest: view.ordersBefore ? adminUrl(here, 'orders') : undefined,
                  })
                : ''
            }${auditTable(t, audit, {
              older:
                lastAudit && audit.length >= AUDIT_SHOWN
                  ? adminUrl({ ...here, auditBefore: String(lastAudit.id) }, 'audit')
                  : undefined,
              newest: view.auditBefore ? adminUrl(here, 'audit') : undefined,
            })}`,
          nav: signOutForm(t, session.path, csrf),
          wide: true,
          scripts: ['admin.js'],
        },
      );
    }
    setPageHeaders(ctx);
  };

  /** After a change: the product's page as it is now (first page, no search). */
  const viewOf = (productId: string, productsAfter?: string): AdminView => ({
    productId,
    query: '',
    ordersBefore: undefined,
    auditBefore: undefined,
    productsAfter: productsAfter && PRODUCT_ID.test(productsAfter) ? productsAfter : undefined,
  });

  router.get('/admin', signedIn, async (ctx) => {
    await render(ctx, readView(ctx, deps.config.defaultProductId));
  });

  // The pipeline panel, live: the figures every PIPELINE_EVERY_MS while the page is open, as the
  // product page's stock is (Server-Sent Events; the admin pages are few, so each stream asks
  // Postgres for itself).
  router.get('/admin/pipeline/events', signedIn, async (ctx) => {
    const productId = productIdFromQuery(ctx.query, deps.config.defaultProductId);
    checkStreamCapacity(deps, [{ address: ctx.ip }]);
    if (!(await getStock(deps.pool, productId))) throw notFound('product');
    const stream = startEventStream(ctx, deps, [{ address: ctx.ip }]);
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    const send = async () => {
      try {
        const [status, stock] = await Promise.all([
          pipelineStatus(deps.pool, productId, PIPELINE_MINUTES),
          deps.stock.get(productId),
        ]);
        if (closed) return;
        stream.send('pipeline', {
          at: new Date().toISOString(),
          remaining: stock?.remaining ?? null,
          total: stock?.total ?? null,
          ordersLastMinute: status.ordersPerMinute.at(-1) ?? 0,
          ...status,
        });
      } catch (err) {
        // The next tick tries again; the panel keeps the last figures meanwhile.
        deps.log.warn({ err, productId }, 'pipeline figures unavailable');
      }
      if (!closed) timer = setTimeout(() => void send(), PIPELINE_EVERY_MS);
    };
    stream.onClose(() => {
      closed = true;
      clearTimeout(timer);
    });
    void send();
  });

  // Every order of a product with names, phone and code, oldest first, streamed page by page
  // (export_orders): memory stays flat whatever the count, and a slow download holds no query.
  router.get('/admin/products/:productId/orders.csv', signedIn, async (ctx) => {
    const productId = ctx.params['productId'] ?? '';
    if (!PRODUCT_ID.test(productId) || !(await getStock(deps.pool, productId))) throw notFound('product');
    const pages = exportOrders(deps.pool, productId);
    const iso = (d: Date | null) => (d ? d.toISOString() : '');
    async function* lines() {
      yield CSV_HEADER;
      for await (const orders of pages) {
        yield orders
          .map(
            (o) =>
              [o.orderId, o.status, o.firstName, o.lastName, o.phone, o.couponCode]
                .map(csvField)
                .concat([iso(o.createdAt), iso(o.voucherStoredAt), iso(o.redeemedAt)])
                .join(',') + '\r\n',
          )
          .join('');
      }
    }
    deps.log.info(
      { productId, requestId: ctx.state['requestId'], via: 'admin page' },
      'orders exported as CSV',
    );
    ctx.set({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="orders-${productId}.csv"`,
      'Cache-Control': 'no-store',
    });
    ctx.body = Readable.from(lines(), { objectMode: false });
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
      return render(ctx, viewOf(productId, fields['productsAfter']), {
        error: `${t.admin.total} ${problem.message}.`,
      });
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
      return render(ctx, viewOf(productId, fields['productsAfter']), {
        error: t.admin.belowReserved(result.reserved),
      });
    }
    deps.log.info(
      { productId, total, outcome: result.outcome, requestId: ctx.state['requestId'], via: 'admin page' },
      'product stock changed by admin',
    );
    await render(ctx, viewOf(productId, fields['productsAfter']), {
      message: t.admin.saved(productId, total),
    });
  });

  return router;
}
