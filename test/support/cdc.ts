/**
 * Running the CDC consumer in tests: in-process (to inspect it) or as its own `crs cdc`
 * process (to kill -9 it), and the waiting and ordering helpers CDC tests share.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Test } from 'tap';
import { cdcRole } from '../../drill/cdcRole.js';
import { startCdc, type RunningCdc } from '../../cdc/service.js';
import { loadCdcConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { readStockFlag } from '../../common/stockFlag.js';
import type { TestDatabase } from './database.js';
import { spawnCrs, type CrsProcess } from './process.js';
import { freePort } from './services.js';

export interface CdcEnvOptions {
  redisUrl: string;
  amqpUrl: string;
  slot?: string;
  port?: number;
  /** More variables for the consumer (CDC_STOCK_CHECK_MS, ...). */
  env?: Record<string, string>;
}

export function cdcEnv(db: TestDatabase, options: CdcEnvOptions): Record<string, string> {
  return {
    CDC_DATABASE_URL: db.urls.cdc,
    REDIS_URL: options.redisUrl,
    AMQP_URL: options.amqpUrl,
    CDC_SLOT: options.slot ?? `slot_${db.name}`,
    CDC_PORT: String(options.port ?? 0),
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...options.env,
  };
}

export async function startTestCdc(t: Test, db: TestDatabase, options: CdcEnvOptions): Promise<RunningCdc> {
  const config = loadCdcConfig(cdcEnv(db, options));
  const cdc = await startCdc(config, makeLogger({ level: config.logLevel, component: 'cdc' }));
  t.teardown(() => cdc.stop());
  // Changes committed before the stream opens are not in it (reconcile covers flags and jobs,
  // not the change feed): tests start placing orders once it is open.
  await waitFor('the replication stream to open', async () => cdc.consumer.status().streaming);
  return cdc;
}

/** The role a CDC process reports on /readyz (the drill asks the same way). */
export { cdcRole };

export interface CdcProcess extends CrsProcess {
  probeUrl: string;
}

/** `crs cdc` as its own process, the way Kubernetes runs it. */
export async function spawnCdc(t: Test, db: TestDatabase, options: CdcEnvOptions): Promise<CdcProcess> {
  const port = await freePort();
  const running = spawnCrs(t, ['cdc'], { ...cdcEnv(db, { ...options, port }), LOG_LEVEL: 'info' });
  return { ...running, probeUrl: `http://127.0.0.1:${port}` };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Places `count` orders for a product through crs.place_order as crs_api, `concurrency` at a time. */
export async function placeOrders(
  db: TestDatabase,
  options: { productId: string; count: number; concurrency?: number; prefix?: string },
): Promise<{ reserved: string[]; refused: number }> {
  const pool = db.pool('api', options.concurrency ?? 8);
  const prefix = options.prefix ?? randomBytes(3).toString('hex');
  const reserved: string[] = [];
  let refused = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency ?? 8 }, async () => {
      while (next < options.count) {
        const i = next++;
        const orderId = `o-${prefix}-${i}`.padEnd(8, '0');
        const phone = `+35840${String(1_000_000 + ((parseInt(prefix, 16) * 7 + i) % 8_999_999)).padStart(7, '0')}`;
        const { rows } = await pool.query<{ outcome: string }>(
          'select outcome from crs.place_order($1, $2, $3, $4, $5, $6, $7, $8)',
          [orderId, options.productId, phone, 'Test', 'Customer', phone, randomBytes(32), randomBytes(16)],
        );
        if (rows[0]?.outcome === 'reserved') reserved.push(orderId);
        else refused += 1;
      }
    }),
  );
  return { reserved, refused };
}

/** Render jobs queued, by order id (from graphile-worker's job keys). */
export async function renderJobs(db: TestDatabase): Promise<string[]> {
  // The migration owner ran graphile-worker's migrations, so it owns (and reads) its tables.
  const { rows } = await db.owner.query<{ key: string }>(
    `select key from graphile_worker.jobs where key like 'render_voucher:%' order by key`,
  );
  return rows.map((row) => row.key.slice('render_voucher:'.length));
}

/** Whether the product's stock flag in Redis says what the tables say. */
export async function flagMatchesTable(db: TestDatabase, redis: Redis, productId: string) {
  const { rows } = await db.owner.query(`select * from crs.get_stock($1)`, [productId]);
  const flag = await readStockFlag(redis, productId);
  return flag !== undefined && flag.remaining === rows[0].remaining && flag.total === rows[0].total;
}

/** Whether every order of the product has its render job queued. */
export async function everyOrderHasItsJob(db: TestDatabase, productId: string) {
  const { rows } = await db.owner.query<{ order_id: string }>(
    'select order_id from crs.orders where product_id = $1',
    [productId],
  );
  const jobs = new Set(await renderJobs(db));
  return rows.length > 0 && rows.every((row) => jobs.has(row.order_id));
}

/**
 * Waits until the slot's consumer has acknowledged everything written before this call, i.e.
 * applied every effect of it, change feed included: a test that freezes or kills the consumer
 * next knows none of the earlier orders is in flight (a batch caught between its publish and
 * its acknowledgement is sent again by the next consumer: the feed is at least once).
 */
export async function slotCaughtUp(db: TestDatabase, slot = `slot_${db.name}`, timeoutMs = 30_000) {
  const { rows } = await db.owner.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn');
  const target = rows[0]!.lsn;
  await waitFor(
    `the slot to confirm ${target}`,
    async () => {
      const { rows: slots } = await db.owner.query<{ done: boolean }>(
        'select confirmed_flush_lsn >= $2::pg_lsn as done from pg_replication_slots where slot_name = $1',
        [slot, target],
      );
      return slots[0]?.done === true;
    },
    timeoutMs,
  );
}
