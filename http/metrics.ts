/**
 * Prometheus metrics of the API process. A registry per app instance (no global default
 * registry), so tests can build several apps in one process.
 */
import type { Context, Next } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { routeOf } from './requestContext.js';

export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status' | 'code'>;
  duration: Histogram<'method' | 'route' | 'status'>;
  orders: Counter<'outcome'>;
  placeOrderSeconds: Histogram<'outcome'>;
  orderBatchSize: Histogram;
  orderBatchSeconds: Histogram;
  /** 429s by limit (http/rateLimit.ts). */
  rateLimitRefusals: Counter<'limit'>;
  /** Rate limit decisions made in this process because Redis was unreachable or slow. */
  rateLimitLocalDecisions: Counter<'limit'>;
  /** Reports the group commit's queue on every scrape. */
  observeOrderQueue(depth: () => { queued: number; inFlight: number }): void;
}

export function makeApiMetrics(options: { defaultMetrics: boolean }): ApiMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'crs_api_' });
  return {
    registry,
    requests: new Counter({
      name: 'crs_http_requests_total',
      help: 'HTTP requests by route, status and error code',
      labelNames: ['method', 'route', 'status', 'code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'crs_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    orders: new Counter({
      name: 'crs_orders_total',
      help: 'Order decisions by outcome (reserved, replay, out_of_stock, ...)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    placeOrderSeconds: new Histogram({
      name: 'crs_place_order_seconds',
      help: 'Time to decide one order: waiting for a batch slot plus its crs.place_orders call',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    orderBatchSize: new Histogram({
      name: 'crs_order_batch_size',
      help: 'Orders decided per crs.place_orders call (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
      registers: [registry],
    }),
    orderBatchSeconds: new Histogram({
      name: 'crs_order_batch_seconds',
      help: 'Time of one crs.place_orders call',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    rateLimitRefusals: new Counter({
      name: 'crs_rate_limit_refusals_total',
      help: 'Requests refused with 429 rate_limited, by limit',
      labelNames: ['limit'],
      registers: [registry],
    }),
    rateLimitLocalDecisions: new Counter({
      name: 'crs_rate_limit_local_decisions_total',
      help: 'Rate limit decisions made in this process (per replica) because Redis did not answer',
      labelNames: ['limit'],
      registers: [registry],
    }),
    observeOrderQueue(depth) {
      const queued = new Gauge({
        name: 'crs_order_queue_depth',
        help: 'Orders waiting for a free batch slot',
        registers: [registry],
        collect() {
          queued.set(depth().queued);
        },
      });
      const inFlight = new Gauge({
        name: 'crs_order_batches_in_flight',
        help: 'crs.place_orders calls running',
        registers: [registry],
        collect() {
          inFlight.set(depth().inFlight);
        },
      });
    },
  };
}

/** Counts and times every request; the error code label comes from the rendered body. */
export function measureRequests(metrics: ApiMetrics) {
  return async function measureRequestsMiddleware(ctx: Context, next: Next) {
    const end = metrics.duration.startTimer();
    try {
      await next();
    } finally {
      const status = String(ctx.status);
      const route = routeOf(ctx);
      const body = ctx.body as { error?: { code?: unknown } } | undefined;
      const code = typeof body?.error?.code === 'string' ? body.error.code : '';
      metrics.requests.inc({ method: ctx.method, route, status, code });
      end({ method: ctx.method, route, status });
    }
  };
}
