/**
 * What must hold after the faults, read from the system's own stores (Postgres, the bucket,
 * Redis) and through the API as an owner would: every accepted order is in Postgres exactly
 * once, rendered once, stored once and fetchable by its owner; nothing is oversold; every
 * product's stock flag equals its tables; the change feed's stream holds every order's
 * order.created (repeats only under the same event id). Each check that fails adds a problem line.
 */
import { Redis } from 'ioredis';
import { Client } from 'minio';
import type pg from 'pg';
import { readChangeStream } from '../cdc/changeStream.js';
import { readNetwork } from '../common/config.js';
import { readStockFlag } from '../common/stockFlag.js';
import { orderIdOfKey } from '../common/objectStore.js';
import type { PlacedOrder } from './orderLoad.js';

export interface StoreCounts {
  ordersInPostgres: number;
  vouchersRecorded: number;
  renderJobsLeft: number;
  /** The first of them, for the report. */
  jobsLeft: unknown[];
  objectsInBucket: number;
  fetchable: number;
  oversold: number;
  /** Orders in Postgres the customers never heard were reserved (half-written). */
  unknownToCustomers: number;
  /** Reserved answers with no order in Postgres (lost). */
  lost: number;
  /** Objects whose order is not in Postgres, or more than one object per order. */
  duplicated: number;
  table: { remaining: number; total: number };
  /** Every product whose flag differs from its tables (name, total, remaining, available). */
  flagMismatches: string[];
  /** Orders in Postgres without an order.created in the change stream (a gap). */
  feedMissing: number;
  /** Orders with order.created events under different ids (a repeat that is not a replay). */
  feedConflicting: number;
  /** order.created events read again under the same id (at least once: allowed). */
  feedRepeated: number;
}

export interface Stores {
  owner: pg.Pool;
  redisUrl: string;
  s3: { endpoint: string; accessKey: string; secretKey: string; bucket: string };
  productId: string;
  /** An API instance to fetch vouchers through, as their owners do. */
  target: string;
  /** The change feed's stream (CHANGE_STREAM) and a broker URL allowed to read it. */
  feed: { amqpUrl: string; stream: string };
}

/** The change stream's order.created events for `productId`: the ids each order was told under. */
async function feedIdsByOrder(feed: Stores['feed'], productId: string) {
  const ids = new Map<string, string[]>();
  await readChangeStream({
    url: feed.amqpUrl,
    network: readNetwork({}),
    stream: feed.stream,
    from: 'first',
    follow: false,
    types: ['order.created'],
    onEvent: ({ event }) => {
      const data = event.data as { orderId: string; productId: string };
      if (data.productId !== productId) return;
      ids.set(data.orderId, [...(ids.get(data.orderId) ?? []), event.id]);
    },
  });
  return ids;
}

/** Orders accepted up to `until` that have no voucher recorded yet. */
export async function vouchersOutstanding(owner: pg.Pool, productId: string, until: Date): Promise<number> {
  const { rows } = await owner.query<{ n: string }>(
    `select count(*) as n from crs.orders
      where product_id = $1 and created_at <= $2 and voucher_stored_at is null`,
    [productId, until],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function countStores(stores: Stores, placed: PlacedOrder[]): Promise<StoreCounts> {
  const { owner, productId } = stores;
  const orders = await owner.query<{ order_id: string; voucher: boolean }>(
    `select order_id, voucher_stored_at is not null as voucher from crs.orders where product_id = $1`,
    [productId],
  );
  const inPostgres = new Set(orders.rows.map((row) => row.order_id));
  const stock = await owner.query<{ remaining: number; total: number }>(`select * from crs.get_stock($1)`, [
    productId,
  ]);
  const table = { remaining: Number(stock.rows[0]?.remaining), total: Number(stock.rows[0]?.total) };
  const jobs = await owner.query<{ n: string }>(
    `select count(*) as n from graphile_worker.jobs where task_identifier = 'render_voucher'`,
  );
  const jobsLeft = await owner.query(
    `select id, key, attempts, max_attempts, locked_by, locked_at, run_at, left(last_error, 300) as last_error
       from graphile_worker.jobs where task_identifier = 'render_voucher' order by id limit 5`,
  );

  const url = new URL(stores.s3.endpoint);
  const s3 = new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: url.protocol === 'https:',
    accessKey: stores.s3.accessKey,
    secretKey: stores.s3.secretKey,
    pathStyle: true,
  });
  const objects = new Map<string, number>();
  for await (const item of s3.listObjects(stores.s3.bucket, 'orders/', true)) {
    const orderId = orderIdOfKey((item as { name?: string }).name ?? '');
    if (orderId) objects.set(orderId, (objects.get(orderId) ?? 0) + 1);
  }

  const reserved = placed.filter((order) => order.outcome === 'reserved');
  const known = new Set(reserved.map((order) => order.orderId));
  let fetchable = 0;
  // The owners fetch their vouchers, a few at a time.
  const queue = [...reserved];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let order = queue.shift(); order; order = queue.shift()) {
        if (await fetchesVoucher(stores.target, order)) fetchable += 1;
      }
    }),
  );

  const products = await owner.query<{ product_id: string; name: string; total: number; remaining: number }>(
    `select p.product_id, p.name, p.total,
            (select coalesce(sum(s.remaining), 0)::int from crs.stock_shards s
              where s.product_id = p.product_id) as remaining
       from crs.products p order by p.product_id`,
  );
  const redis = new Redis(stores.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  const flagMismatches: string[] = [];
  try {
    await redis.connect();
    for (const product of products.rows) {
      const found = await readStockFlag(redis, product.product_id);
      const shown = found && [found.name, found.total, found.remaining, found.available];
      const table = [product.name, product.total, product.remaining, product.remaining > 0];
      if (JSON.stringify(shown) !== JSON.stringify(table)) {
        flagMismatches.push(
          `${product.product_id}: flag ${JSON.stringify(shown)}, tables ${JSON.stringify(table)}`,
        );
      }
    }
  } finally {
    redis.disconnect();
  }

  // The last batches' events may be moments behind the flag: read again while some are missing.
  let told = await feedIdsByOrder(stores.feed, productId);
  for (let attempt = 0; attempt < 5 && [...inPostgres].some((id) => !told.has(id)); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    told = await feedIdsByOrder(stores.feed, productId);
  }
  const feedIds = [...inPostgres].map((id) => told.get(id) ?? []);

  return {
    feedMissing: feedIds.filter((ids) => ids.length === 0).length,
    feedConflicting: feedIds.filter((ids) => new Set(ids).size > 1).length,
    feedRepeated: feedIds.reduce((sum, ids) => sum + Math.max(0, ids.length - 1), 0),
    ordersInPostgres: inPostgres.size,
    vouchersRecorded: orders.rows.filter((row) => row.voucher).length,
    renderJobsLeft: Number(jobs.rows[0]?.n ?? 0),
    jobsLeft: jobsLeft.rows,
    objectsInBucket: [...objects.values()].reduce((sum, n) => sum + n, 0),
    fetchable,
    oversold: Math.max(0, inPostgres.size - table.total, -table.remaining),
    unknownToCustomers: [...inPostgres].filter((id) => !known.has(id)).length,
    lost: [...known].filter((id) => !inPostgres.has(id)).length,
    duplicated: [...objects].filter(([id, n]) => n > 1 || !inPostgres.has(id)).length,
    table,
    flagMismatches,
  };
}

async function fetchesVoucher(target: string, order: PlacedOrder): Promise<boolean> {
  if (!order.token) return false;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const response = await fetch(`${target}/api/orders/${order.orderId}/voucher`, {
        headers: { authorization: `Bearer ${order.token}` },
        signal: AbortSignal.timeout(10_000),
      });
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status === 200 && body.subarray(0, 5).toString('latin1') === '%PDF-') return true;
    } catch {
      // try again
    }
  }
  return false;
}

/** Problem lines: empty when every invariant holds. */
export function brokenInvariants(counts: StoreCounts, reserved: number): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, line: string) => ok || problems.push(line);
  expect(
    counts.ordersInPostgres === reserved,
    `${reserved} accepted but ${counts.ordersInPostgres} in Postgres`,
  );
  expect(counts.lost === 0, `${counts.lost} accepted orders not in Postgres`);
  expect(
    counts.unknownToCustomers === 0,
    `${counts.unknownToCustomers} orders in Postgres nobody was told of`,
  );
  expect(counts.vouchersRecorded === reserved, `${counts.vouchersRecorded} of ${reserved} vouchers recorded`);
  expect(
    counts.renderJobsLeft === 0,
    `${counts.renderJobsLeft} render jobs not completed: ${JSON.stringify(counts.jobsLeft)}`,
  );
  expect(counts.objectsInBucket === reserved, `${counts.objectsInBucket} objects for ${reserved} orders`);
  expect(counts.duplicated === 0, `${counts.duplicated} duplicated or orphan vouchers`);
  expect(
    counts.fetchable === reserved,
    `${counts.fetchable} of ${reserved} vouchers fetchable by their owners`,
  );
  expect(counts.oversold === 0, `oversold by ${counts.oversold}`);
  for (const mismatch of counts.flagMismatches) problems.push(`stock flag differs: ${mismatch}`);
  expect(counts.feedMissing === 0, `${counts.feedMissing} orders missing from the change stream`);
  expect(
    counts.feedConflicting === 0,
    `${counts.feedConflicting} orders told twice in the change stream under different ids`,
  );
  return problems;
}
