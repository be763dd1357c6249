/** Liveness, readiness (every dependency reachable) and Prometheus metrics. */
import { Router } from '@koa/router';
import { AppError } from '../../common/errors.js';
import type { ApiDeps } from '../deps.js';

const READY_TIMEOUT_MS = 2_000;

async function checkPostgres(deps: ApiDeps): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      deps.pool.query('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `unreachable: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

export function makeHealthRoutes(deps: ApiDeps): Router {
  const router = new Router();

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const checks = { postgres: await checkPostgres(deps) };
    const failing = Object.entries(checks).filter(([, state]) => state !== 'ok');
    // Redis is reported but does not make the API unready: stock falls back to Postgres.
    const degraded = { redis: deps.stock.redisState(), rabbitmq: deps.vouchers.state() };
    if (deps.lifecycle.draining || failing.length > 0) {
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
