/**
 * The drift guard (cdc/stockDriftGuard.ts) on real services: a flag that went wrong behind the
 * stream's back is reported (metrics, log) and rewritten from the tables at the next check;
 * checks made while orders stream in never "repair" a flag that was right.
 */
import { Redis } from 'ioredis';
import t from 'tap';
import { readStockFlag, summaryKey, valuesKey } from '../../common/stockFlag.js';
import { placeOrders, startTestCdc, waitFor } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { makeTestVhost, startTestRedis } from '../support/services.js';

const db = await makeTestDatabase(t);
const redisServer = await startTestRedis(t);
const amqpUrl = await makeTestVhost(t);
const redis = new Redis(redisServer.url);
t.teardown(() => redis.disconnect());
const admin = db.owner;

/** A metric's value from the consumer's /metrics (0 when absent). */
async function metric(probeUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${probeUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function tableStock(productId: string) {
  const { rows } = await admin.query<{ total: number; remaining: number }>(
    `select p.total, (select sum(s.remaining)::int from crs.stock_shards s
                       where s.product_id = p.product_id) as remaining
       from crs.products p where p.product_id = $1`,
    [productId],
  );
  return rows[0];
}

t.test('a flag changed behind the stream is reported, then rewritten from the tables', async (t) => {
  const cdc = await startTestCdc(t, db, {
    redisUrl: redisServer.url,
    amqpUrl,
    env: { CDC_STOCK_CHECK_MS: '300' },
  });
  await admin.query(`select crs.upsert_product('drift', 'Drift', 20)`);
  await placeOrders(db, { productId: 'drift', count: 5 });
  await waitFor('the flag at 15', async () => (await readStockFlag(redis, 'drift'))?.remaining === 15);

  // As a bug (or a cache restored from an old backup) would: the flag's shards all say 0,
  // with versions older than anything the stream will send again.
  // At once, so no check sees half of it.
  const values = await redis.hgetall(valuesKey('drift'));
  const zeroed = Object.keys(values)
    .filter((f) => f.startsWith('shard:'))
    .flatMap((field) => [field, '0000000000000001|0']);
  await redis
    .multi()
    .hset(valuesKey('drift'), ...zeroed)
    .hset(summaryKey('drift'), 'remaining', '0', 'available', '0')
    .exec();
  const broken = Date.now();

  const drift = await waitFor(
    'the drift to be reported',
    async () => (await metric(cdc.probes.url, 'crs_cdc_stock_drift_units')) || undefined,
    10_000,
  );
  // 15 units are missing from this product's flag (the gauge sums over every product).
  t.ok(drift >= 15, `the missing units, as a metric: ${drift}`);
  const flag = await waitFor(
    'the flag to be rewritten',
    async () => {
      const f = await readStockFlag(redis, 'drift');
      return f?.remaining === 15 ? f : undefined;
    },
    10_000,
  );
  t.same([flag.remaining, flag.total, flag.available], [15, 20, true], 'the flag equals the tables again');
  t.comment(`reported and repaired ${Date.now() - broken} ms after the damage (checks every 300 ms)`);
  t.equal(await metric(cdc.probes.url, 'crs_cdc_stock_repairs_total'), 1, 'one repair');
  await waitFor(
    'the drift gauge back at 0',
    async () => (await metric(cdc.probes.url, 'crs_cdc_stock_drift_products')) === 0,
    5_000,
  );

  // The stream goes on over the repaired values.
  await placeOrders(db, { productId: 'drift', count: 2 });
  await waitFor('the flag at 13', async () => (await readStockFlag(redis, 'drift'))?.remaining === 13);
});

t.test('checks during a stream of orders never rewrite a right flag', async (t) => {
  const cdc = await startTestCdc(t, db, {
    redisUrl: redisServer.url,
    amqpUrl,
    slot: `slot_${db.name}_busy`,
    env: { CDC_STOCK_CHECK_MS: '0' },
  });
  await admin.query(`select crs.upsert_product('busy', 'Busy', 3000)`);
  let ordering = true;
  const load = (async () => {
    let placed = 0;
    while (ordering && placed < 2_000) {
      placed += (await placeOrders(db, { productId: 'busy', count: 50, concurrency: 4 })).reserved.length;
    }
    return placed;
  })();
  const outcomes: string[] = [];
  const until = Date.now() + 4_000;
  while (Date.now() < until) {
    const result = await cdc.stockGuard.check();
    outcomes.push(
      result.outcome === 'checked'
        ? `checked:${result.disagreeing.length}:${result.repaired.length}`
        : result.outcome,
    );
  }
  ordering = false;
  const placed = await load;
  t.comment(`check outcomes: ${outcomes.join(' ')}`);
  // Exact, not just eventually right: no check even disagrees with a flag that is right.
  const disagreed = outcomes.filter((o) => o.startsWith('checked:') && o !== 'checked:0:0');
  t.same(disagreed, [], `${outcomes.length} checks during ${placed} orders, none disagreed or repaired`);
  t.ok(
    outcomes.some((o) => o.startsWith('checked')),
    'checks completed under load',
  );
  const table = await tableStock('busy');
  const flag = await waitFor('the flag to catch up', async () => {
    const f = await readStockFlag(redis, 'busy');
    return f?.remaining === table?.remaining ? f : undefined;
  });
  t.equal(flag.remaining, 3000 - placed);
});
