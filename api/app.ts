/**
 * The Koa application: middleware in the order a request meets it, then the routes. Built
 * from explicit dependencies only, so a process (api/server.ts) or a test composes it with
 * whatever else it holds (the pages, more routers).
 */
import Koa, { type Middleware } from 'koa';
import { Router } from '@koa/router';
import type { ApiDeps } from './deps.js';
import { makeAdminRoutes } from './admin/routes.js';
import { renderErrors } from '../http/errors.js';
import { measureRequests } from '../http/metrics.js';
import { requestContext } from '../http/requestContext.js';
import { securityHeaders } from '../http/securityHeaders.js';
import { makeHealthRoutes } from './health/routes.js';
import { makeOpenApiDocument } from './openapi/document.js';
import { makeOrderRoutes, type OrderHtmlResponder } from './orders/routes.js';
import { makeStockRoutes } from './stock/routes.js';
import { makeVoucherRoutes } from './vouchers/routes.js';
import { makeStaffRoutes } from './vouchers/staffRoutes.js';

/**
 * Every router of the API; test/api/openapiConformance.test.ts compares their routes with the
 * document.
 * `html` answers the order routes for the web page (content negotiation).
 */
export function makeRouters(deps: ApiDeps, html?: OrderHtmlResponder): Router[] {
  const openApi = makeOpenApiDocument();
  const docs = new Router();
  docs.get('/api/openapi.json', (ctx) => {
    ctx.body = openApi;
  });
  return [
    makeOrderRoutes(deps, html),
    makeVoucherRoutes(deps),
    makeStaffRoutes(deps),
    makeStockRoutes(deps),
    makeAdminRoutes(deps),
    makeHealthRoutes(deps),
    docs,
  ];
}

/**
 * The pages (web/) as the app takes them: plugged in by whoever composes the process
 * (cli/commands/api.ts), so the API never imports the pages; the pages build on the API.
 */
export interface ApiPages {
  routers: Router[];
  /** Answers the API's order routes with HTML for the page (content negotiation). */
  orders: OrderHtmlResponder;
  /** Mounted before the routes: browsers get error pages, not JSON, outside /api. */
  pageErrors: Middleware;
}

export interface AppOptions {
  pages?: ApiPages | undefined;
  /** More routers after the API's own and the pages'. */
  routers?: Router[] | undefined;
}

export function makeApp(deps: ApiDeps, options: AppOptions = {}): Koa {
  const app = new Koa({ proxy: deps.config.trustProxy });
  // Koa would print every error itself; ours are rendered and logged by renderErrors.
  app.silent = true;

  app.use(requestContext(deps.log));
  app.use(measureRequests(deps.metrics));
  app.use(securityHeaders());
  app.use(renderErrors());
  const { pages, routers = [] } = options;
  if (pages) app.use(pages.pageErrors);
  for (const router of [...makeRouters(deps, pages?.orders), ...(pages?.routers ?? []), ...routers]) {
    app.use(router.routes());
  }
  return app;
}
