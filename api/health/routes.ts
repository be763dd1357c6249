/** Liveness, readiness (every dependency reachable) and Prometheus metrics. */
import { Router } from '@koa/router';
import { z } from 'zod';
import { AppError } from '../../common/errors.js';
import { runChecks } from '../../common/probeServer.js';
import { checkSchema } from '../../common/schemaVersion.js';
import type { ApiDeps } from '../deps.js';
import { parseParams, takesParameters, type ParameterSchemas } from '../../http/validate.js';

/**
 * Checks a probe may leave out of /readyz, as the Kubernetes API server's /readyz?exclude=etcd
 * does. Kubernetes' readiness probe excludes postgres: the database is shared by every API
 * pod, so a failover would take them all out of the Service at once, and clients would get
 * refused connections at the ingress instead of this API's 503 with Retry-After (each order
 * is retried with its id, which is safe). The schema gate stays: until this process has once
 * seen the schema it needs, postgres is checked anyway (schemas only move forward).
 */
const EXCLUDABLE = ['postgres'] as const;

const readinessQuery = z.object({
  exclude: z
    .union([z.string(), z.array(z.string())])
    .transform((given) => [given].flat())
    .pipe(
      z.array(
        z.enum(EXCLUDABLE, {
          error: (issue) =>
            `"${String(issue.input)}" is not a check that may be excluded (${EXCLUDABLE.join(', ')})`,
        }),
      ),
    )
    .optional()
    .describe(
      'Leave a shared dependency out (Kubernetes probes use exclude=postgres); the schema ' +
        'is still checked until this process has once seen it current. Repeatable.',
    ),
});

/** GET /readyz. */
export const readinessParameters: ParameterSchemas = { query: readinessQuery };

export function makeHealthRoutes(deps: ApiDeps): Router {
  let schemaSeen = false;
  // Exact paths only: the ingress refuses /metrics, /healthz and /readyz by exact path, so
  // /METRICS or /metrics/ must not answer the same here (strict: no trailing slash; sensitive:
  // case matters).
  const router = new Router({ strict: true, sensitive: true });

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get(
    '/readyz',
    takesParameters(readinessParameters, async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const { exclude = [] } = parseParams(readinessQuery, ctx.query);
      const skipPostgres = exclude.includes('postgres') && schemaSeen;
      const { ready, checks } = await runChecks(
        skipPostgres ? {} : { postgres: () => checkSchema(deps.pool) },
      );
      if (checks['postgres'] === 'ok') schemaSeen = true;
      if (skipPostgres) checks['postgres'] = 'excluded (the schema was current when last checked)';
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
    }),
  );

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  return router;
}
