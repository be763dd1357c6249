/**
 * `crs api`: the API as its own process. Builds the dependencies from config, listens, and on
 * SIGTERM/SIGINT drains: readiness fails at once, the listener closes, in-flight requests
 * finish (up to SHUTDOWN_GRACE_MS), then the pool closes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import Koa from 'koa';
import type { ApiConfig } from '../common/config.js';
import type { Router } from '@koa/router';
import { redisSocketOptions } from '../common/connections.js';
import { makePool, type Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';
import { makeApp, type ApiPages } from './app.js';
import { makeHealthRoutes } from './health/routes.js';
import { renderErrors } from '../http/errors.js';
import { ordersWithVouchers } from '../sql/getOrder.js';
import type { ApiDeps } from './deps.js';
import { answerClientErrors, answerUnmetExpectations } from '../http/clientErrors.js';
import { makeApiMetrics } from '../http/metrics.js';
import { makeRateLimiter, makeRateLimits } from '../http/rateLimit.js';
import { makeStockAnnouncements } from './stock/stockAnnouncements.js';
import { makeStockSource } from './stock/stockSource.js';
import { makeOrderIntake, type OrderIntake } from './orders/orderIntake.js';
import { makeVoucherEvents } from './vouchers/voucherEvents.js';
import { makeVoucherRechecks } from './vouchers/voucherRechecks.js';
import { makeObjectStore } from '../common/objectStore.js';

export interface RunningApi {
  server: Server;
  url: string;
  /** Where /healthz, /readyz and /metrics answer alone (API_PROBE_PORT), if set. */
  probesUrl: string | undefined;
  deps: ApiDeps;
  stop(): Promise<void>;
}

/** What the process is composed of besides the API itself. */
export interface StartApiOptions {
  /** The pages (web/makeWeb), given by the composer: the API does not import them. */
  pages?: (deps: ApiDeps) => ApiPages;
  /** How orders are decided; the default is the group commit in front of crs.place_orders. */
  intake?: (pool: Pool) => OrderIntake;
  /** More routers on the same app, after the API's own and the pages'. */
  routers?: Router[];
}

export async function startApi(
  config: ApiConfig,
  log: Logger,
  options: StartApiOptions = {},
): Promise<RunningApi> {
  const pool = makePool(
    {
      connectionString: config.databaseUrl,
      applicationName: 'crs-api',
      max: config.databasePoolSize,
      network: config.network,
    },
    log,
  );
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, {
        ...redisSocketOptions(config.network),
        // Fail fast: a slow flag read falls back to Postgres instead of holding the request.
        commandTimeout: 250,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
      })
    : undefined;
  redis?.on('error', (err: Error) => log.debug({ err }, 'redis error'));
  if (redis) {
    // Give the flag a moment to connect, so the first requests do not all fall back.
    const ready = await Promise.race([
      new Promise<boolean>((resolve) => redis.once('ready', () => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
    ]);
    if (!ready) log.warn('redis not reachable at start; reading stock from Postgres until it is');
  }
  const metrics = makeApiMetrics({ defaultMetrics: true });
  const store = config.objectStore ? makeObjectStore(config.objectStore) : undefined;
  const deps: ApiDeps = {
    config,
    pool,
    log,
    metrics,
    orders: options.intake?.(pool) ?? makeOrderIntake({ pool, config, metrics }),
    stock: makeStockSource({ pool, redis, log }),
    stockEvents: makeStockAnnouncements({ redisUrl: config.redisUrl, network: config.network, pool, log }),
    vouchers: makeVoucherEvents({
      amqpUrl: config.amqpUrl,
      network: config.network,
      exchange: config.voucherExchange,
      log,
      store,
      storedAmong: async (orderIds) =>
        (await ordersWithVouchers(pool, orderIds)).map((order) => ({
          orderId: order.orderId,
          key: order.voucherKey,
          bucket: config.objectStore?.bucket ?? '',
          eventTime: (order.voucherStoredAt ?? new Date()).toISOString(),
        })),
    }),
    voucherRechecks: makeVoucherRechecks({
      storedAmong: async (orderIds) => (await ordersWithVouchers(pool, orderIds)).map((o) => o.orderId),
      log,
    }),
    // The same Redis as the stock flag; the limiter bounds each call itself and falls back
    // to this process when Redis fails, so orders never wait on it.
    limits: makeRateLimits(config, { limiter: makeRateLimiter({ redis, log, metrics }), metrics }),
    store,
    lifecycle: { draining: false, streams: new Set(), streamOwners: new Map() },
  };
  const app = makeApp(deps, { pages: options.pages?.(deps), routers: options.routers });
  // Slow or stalled clients (slowloris) get a timeout, not a worker held forever. Node checks
  // these limits only every connectionsCheckingInterval, so that follows the shortest of them.
  const { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs } = config.http;
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: headersTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeoutMs / 4))),
    },
    app.callback(),
  );
  // Requests Node refuses before Koa sees them (431, 408, malformed) in the contract's shape.
  server.on('clientError', answerClientErrors(log));
  server.on('checkExpectation', answerUnmetExpectations);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost}:${address.port}`;
  // Probes and metrics alone on a port of their own (API_PROBE_PORT), for the kubelet and
  // Prometheus: the Service behind the ingress exposes only PORT. It keeps answering while the
  // API drains (readiness says 503), and closes last.
  let probes: Server | undefined;
  let probesUrl: string | undefined;
  if (config.probePort !== undefined) {
    const probeApp = new Koa();
    probeApp.silent = true;
    probeApp.use(renderErrors());
    probeApp.use(makeHealthRoutes(deps).routes());
    const probeServer = createServer(probeApp.callback());
    probes = probeServer;
    await new Promise<void>((resolve, reject) => {
      probeServer.once('error', reject);
      probeServer.listen(config.probePort, config.host, () => resolve());
    });
    probesUrl = `http://${shownHost}:${(probeServer.address() as AddressInfo).port}`;
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      deps.lifecycle.draining = true;
      log.info({ graceMs: config.shutdownGraceMs }, 'api draining');
      // Event streams never finish by themselves: end them (EventSource reconnects elsewhere).
      for (const close of [...deps.lifecycle.streams]) close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A keep-alive connection that finishes its request while we drain goes at once, not
      // after its idle timeout: clients (and load balancers) reconnect to another instance.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      void closed.then(() => clearInterval(sweep));
      const grace = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), config.shutdownGraceMs).unref(),
      );
      if ((await Promise.race([closed, grace])) === 'timeout') {
        log.warn('grace period over: closing the remaining connections');
        server.closeAllConnections();
        await closed;
      }
      redis?.disconnect();
      await deps.stockEvents.close();
      await deps.vouchers.close();
      deps.voucherRechecks.close();
      if (probes) {
        const probeServer = probes;
        await new Promise<void>((resolve) => {
          probeServer.close(() => resolve());
          probeServer.closeAllConnections();
        });
      }
      await pool.end();
      log.info('api stopped');
    })();
    return stopping;
  };

  return { server, url, probesUrl, deps, stop };
}
