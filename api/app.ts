/**
 * The Koa application: middleware in the order a request meets it, then the routes. Built
 * from explicit dependencies so tests drive it in-process through app.callback().
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import type { ApiDeps } from './deps.js';
import { makeAdminRoutes } from './admin/routes.js';
import { renderErrors } from './http/errors.js';
import { measureRequests } from './http/metrics.js';
import { requestContext } from './http/requestContext.js';
import { securityHeaders } from './http/securityHeaders.js';
import { makeHealthRoutes } from './health/routes.js';
import { makeOpenApiDocument } from './openapi/document.js';
import { makeOrderRoutes, type OrderHtmlResponder } from './orders/routes.js';
import { makeStockRoutes } from './stock/routes.js';
import { makeVoucherRoutes } from './vouchers/routes.js';
import { makeStaffRoutes } from './vouchers/staffRoutes.js';
import { makeWeb } from '../web/routes.js';

/**
 * Every router of the API; test/api/openapi.test.ts compares their routes with the document.
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

export function makeApp(deps: ApiDeps, extraRouters: Router[] = []): Koa {
  const app = new Koa({ proxy: deps.config.trustProxy });
  // Koa would print every error itself; ours are rendered and logged by renderErrors.
  app.silent = true;

  app.use(requestContext(deps.log));
  app.use(measureRequests(deps.metrics));
  app.use(securityHeaders());
  app.use(renderErrors());
  // The web client (web/): pages, their assets, and HTML answers on the order routes.
  const web = makeWeb(deps);
  app.use(web.pageErrors);
  for (const router of [...makeRouters(deps, web.orders), ...web.routers, ...extraRouters]) {
    app.use(router.routes());
  }
  return app;
}
