/**
 * `crs cdc` as a process: its connections, the consumer, and the probe server. Readiness
 * means every dependency answers; an active consumer and a standby are both ready (the
 * standby is what takes over).
 */
import { Redis } from 'ioredis';
import type { CdcConfig } from '../common/config.js';
import { redisSocketOptions } from '../common/connections.js';
import { makePool } from '../common/db.js';
import type { Logger } from '../common/log.js';
import { runChecks, startProbeServer, type ProbeServer } from '../common/probeServer.js';
import { checkSchema } from '../common/schemaVersion.js';
import { makeChangeFeed } from './changeFeed.js';
import { makeConsumer, type Consumer } from './consumer.js';
import { makeCdcMetrics } from './metrics.js';
import { startStockDriftGuard, type StockDriftGuard } from './stockDriftGuard.js';

export interface RunningCdc {
  consumer: Consumer;
  stockGuard: StockDriftGuard;
  probes: ProbeServer;
  stop(): Promise<void>;
}

const LAG_POLL_MS = 5_000;

export async function startCdc(
  config: CdcConfig,
  log: Logger,
  options: { observe?: (kind: 'redis' | 'job', seconds: number) => void } = {},
): Promise<RunningCdc> {
  const pool = makePool(
    { connectionString: config.databaseUrl, applicationName: 'crs-cdc', max: 4, network: config.network },
    log,
  );
  const redis = new Redis(config.redisUrl, {
    // Commands wait for a reconnect instead of failing at once; the consumer retries anyway.
    maxRetriesPerRequest: 2,
    ...redisSocketOptions(config.network),
    // A command the server never answers (a hung or cut-off Redis) fails the batch, which is
    // retried: never a wait without end.
    commandTimeout: 5_000,
    lazyConnect: false,
  });
  redis.on('error', (err: Error) => log.debug({ err }, 'redis error'));
  const feed = makeChangeFeed(config.amqpUrl, log, config.network, config.feed);
  const metrics = makeCdcMetrics({ defaultMetrics: true });
  const consumer = makeConsumer({ config, pool, redis, feed, log, metrics, ...options });

  const lagTimer = setInterval(() => {
    pool
      .query<{ lag: number | null }>(
        `select pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint as lag
           from pg_replication_slots where slot_name = $1`,
        [config.slotName],
      )
      .then(({ rows }) => {
        if (rows[0]?.lag !== undefined && rows[0].lag !== null) metrics.lagBytes.set(rows[0].lag);
      })
      .catch(() => undefined);
  }, LAG_POLL_MS);
  lagTimer.unref();

  const probes = await startProbeServer({
    port: config.port,
    host: config.host,
    registry: metrics.registry,
    readiness: async () => {
      const { ready, checks } = await runChecks({
        postgres: () => checkSchema(pool),
        redis: () => redis.ping().then(() => 'ok'),
      });
      const status = consumer.status();
      return {
        // A stalled consumer is not ready: what it waits on is in the details (and the logs).
        ready: ready && status.role !== 'stopped' && !status.stalled,
        details: {
          role: status.role,
          streaming: status.streaming,
          acknowledgedLsn: status.acknowledgedLsn,
          ...(status.stalled && { stalled: status.stalled }),
          checks,
        },
      };
    },
  });

  const stockGuard = startStockDriftGuard({
    pool,
    redis,
    log,
    metrics,
    consumer,
    intervalMs: config.stockCheckMs,
  });

  const done = consumer.run();
  done.catch((err: unknown) => log.error({ err }, 'consumer failed'));

  let stopping: Promise<void> | undefined;
  return {
    consumer,
    stockGuard,
    probes,
    stop() {
      stopping ??= (async () => {
        clearInterval(lagTimer);
        await stockGuard.stop();
        await consumer.stop();
        await probes.close();
        await feed.close();
        redis.disconnect();
        await pool.end();
      })();
      return stopping;
    },
  };
}
