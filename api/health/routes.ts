/** Liveness, readiness (every dependency reachable) and Prometheus metrics. */
import { Router } from '@koa/router';
import { AppError } from '../../common/errors.js';
import { runChecks } from '../../common/probeServer.js';
import { checkSchema } from '../../common/schemaVersion.js';
import type { ApiDeps } from '../deps.js';

export function makeHealthRoutes(deps: ApiDeps): Router {
  // Exact paths only: the ingress refuses /metrics, /healthz and /readyz by exact path, so
  // /METRICS or /metrics/ must not answer the same here (strict: no trailing slash; sensitive:
  // case matters).
  const router = new Router({ strict: true, sensitive: true });

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { ready, checks } = await runChecks({
      postgres: () => checkSchema(deps.pool),
    });
    // Redis is reported but does not make the API unready: stock falls back to Postgres.
    const degraded = { redis: deps.stock.redisState(), rabbitmq: deps.vouchers.state() };
    if (deps.lifecycle.draining || !ready) {
      throw new AppError(
        'unavailable',
        deps.lifecycle.draining ? 'Shutting down.' : 'A dependency is unreachable.',
        {
          status: 503,
          headers: { 'Retry-After': '1' },
          details: { draining: deps.lifecycle.draining, checks },
        },
      );
    }
    ctx.body = { status: 'ready', checks, degraded };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  return router;
}
