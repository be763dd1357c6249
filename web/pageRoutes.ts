/**
 * The web client (backend-for-frontend): server-rendered pages with htmx, served by the API.
 * GET / and /orders/:orderId for customers, /staff and /admin for the shop, /assets/* for the
 * pages' own scripts and styles. The order form posts to the API's own POST /api/orders
 * (content negotiation, web/orderResponder.ts).
 */
import { randomBytes } from 'node:crypto';
import { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { notFound, type AppError } from '../common/errors.js';
import type { ApiDeps } from '../api/deps.js';
import { productIdFromQuery } from '../api/stock/routes.js';
import { authorizeOrder } from '../api/orders/orderAccess.js';
import type { ApiPages } from '../api/app.js';
import { assetUrl, loadAssets } from './assets.js';
import { makeCsrf } from './csrf.js';
import { deriveKey } from './keys.js';
import { isHtmx, stringsOf, type WebKit } from './kit.js';
import { makeOrderResponder, toOrderView } from './orderResponder.js';
import { page, setPageHeaders } from './pages/layout.js';
import { messagePage, orderPage, orderStatus, productPage } from './pages/orderPages.js';
import { makeStaffPages } from './staffDeskRoutes.js';
import { makeAdminPages } from './adminPageRoutes.js';
import { ORDER_ID } from '../common/identifiers.js';

/** The pages, as the API's app takes them (api/app.ts). */
export type Web = ApiPages;

const NOT_PAGES = /^\/(api|healthz|readyz|metrics)(\/|$)/;

export function makeWeb(deps: ApiDeps): Web {
  const kit: WebKit = {
    deps,
    assets: loadAssets(),
    csrf: makeCsrf({ key: deriveKey(deps.config.orderTokenKey, 'csrf'), publicUrl: deps.config.publicUrl }),
  };

  const renderPageError = async (ctx: Context, err: AppError) => {
    const t = stringsOf(ctx);
    const heading = err.status === 404 ? t.notFoundPage : (t.errors[err.code] ?? err.message);
    const body = messagePage(t, heading, err.status === 404 ? '' : err.message);
    ctx.body = isHtmx(ctx) ? body.text : page({ t, assets: kit.assets }, { title: heading, main: body });
    setPageHeaders(ctx);
  };

  const httpsOnly = deps.config.publicUrl?.startsWith('https:') ?? false;
  const pageErrors: Middleware = async (ctx, next) => {
    // Secure cookies whenever the public address is https, even if no proxy header says so.
    if (httpsOnly) ctx.cookies.secure = true;
    if (
      !NOT_PAGES.test(ctx.path) &&
      (isHtmx(ctx) || ctx.accepts('application/json', 'text/html') === 'text/html')
    ) {
      ctx.state['renderError'] = renderPageError;
    }
    await next();
  };

  const pages = new Router();

  pages.get('/', async (ctx) => {
    const productId = productIdFromQuery(ctx.query, deps.config.defaultProductId);
    const stock = await deps.stock.get(productId);
    if (!stock) throw notFound('product');
    const t = stringsOf(ctx);
    const form = {
      csrf: kit.csrf.token(ctx),
      // Generated here and kept in the form: a double submit is the same order, not two.
      orderId: randomBytes(16).toString('base64url'),
      productId,
      values: {},
    };
    ctx.body = page({ t, assets: kit.assets }, { title: stock.name, main: productPage(t, stock, form) });
    setPageHeaders(ctx);
  });

  pages.get('/orders/:orderId', async (ctx) => {
    const orderId = ctx.params['orderId'] ?? '';
    if (!ORDER_ID.test(orderId)) throw notFound('order');
    const t = stringsOf(ctx);
    let status;
    let productName: string | undefined;
    // Without script the token arrives in the query (the redirect after the form post); with
    // script it stays in the URL fragment, which never reaches a server.
    if (typeof ctx.query['token'] === 'string') {
      const order = await authorizeOrder(ctx, deps);
      status = orderStatus(t, toOrderView(kit, order), ctx.query['token']);
      productName = order.productName;
    }
    ctx.body = page(
      { t, assets: kit.assets },
      { title: productName ?? t.yourOrder, main: orderPage(t, orderId, status, productName) },
    );
    setPageHeaders(ctx);
    // The page's address holds a token: it must not travel anywhere in a Referer.
    ctx.set('Referrer-Policy', 'no-referrer');
  });

  // Browsers and tools that ask for /favicon.ico by habit get the icon, not a 404 in the
  // console of every page.
  pages.get('/favicon.ico', (ctx) => {
    ctx.redirect(assetUrl(kit.assets, 'icon.svg'));
    ctx.status = 301;
  });
  pages.get('/assets/:name', (ctx) => {
    const asset = kit.assets.get(ctx.params['name'] ?? '');
    if (!asset) throw notFound('asset');
    const etag = `"${asset.hash}"`;
    ctx.set('ETag', etag);
    ctx.set(
      'Cache-Control',
      ctx.query['v'] === asset.hash
        ? 'public, max-age=31536000, immutable'
        : 'public, max-age=0, must-revalidate',
    );
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = asset.type;
    ctx.body = asset.body;
  });

  return {
    routers: [pages, makeStaffPages(kit), makeAdminPages(kit)],
    orders: makeOrderResponder(kit),
    pageErrors,
  };
}
