/**
 * The stock flag, the change feed and Postgres agree, as a property of the whole path: random
 * mixes of new orders, duplicate customers, replays, order id conflicts, unknown products and
 * stock raises and cuts through the admin API, fired in waves of concurrent requests at two API
 * replicas (one batching up to 100 orders per call, one up to 3), for several products with few
 * units. Once the consumer has applied everything committed, for every product the flag, the
 * last stock.changed event and the tables hold the same stock, the flag is available exactly
 * when units remain, and the feed arrived in commit order.
 *
 * The drift guard is off here: it would repair what this test exists to catch.
 * CRS_PROPERTY_SEED replays a failure (fast-check prints the seed and the scenario);
 * CRS_PROPERTY_RUNS sets how many scenarios run.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import t from 'tap';
import { lsnKey, readStockFlag } from '../../common/stockFlag.js';
import { startTestApi, type HttpResponse } from '../support/api.js';
import { startTestCdc, waitFor } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { makeTestVhost, startTestRedis, subscribe } from '../support/services.js';

const RUNS = Number(process.env['CRS_PROPERTY_RUNS'] ?? 20);
const SEED =
  process.env['CRS_PROPERTY_SEED'] === undefined
    ? Date.now() % 2 ** 31
    : Number(process.env['CRS_PROPERTY_SEED']);
const MAX_PRODUCTS = 4;

const db = await makeTestDatabase(t);
const redisServer = await startTestRedis(t);
const amqpUrl = await makeTestVhost(t);
const redis = new Redis(redisServer.url);
t.teardown(() => redis.disconnect());

// A feed subscriber bound before the consumer starts, so it hears every event, in arrival order.
interface FeedEvent {
  id: string;
  type: string;
  /** CloudEvents extensions: the commit LSN, and the place among the transaction's events. */
  commitlsn: string;
  txposition: number;
  data: { productId: string; name?: string; total?: number; remaining?: number; available?: boolean };
}
const feed: FeedEvent[] = [];
await subscribe(t, amqpUrl, { name: 'crs.changes', type: 'topic' }, (event) => feed.push(event as FeedEvent));

const cdc = await startTestCdc(t, db, {
  redisUrl: redisServer.url,
  amqpUrl,
  env: { CDC_STOCK_CHECK_MS: '0' },
});
const apis = [
  await startTestApi(t, db, { REDIS_URL: redisServer.url }),
  await startTestApi(t, db, {
    REDIS_URL: redisServer.url,
    ORDER_BATCH_MAX: '3',
    ORDER_BATCH_CONCURRENCY: '2',
  }),
];

type OrderOp = {
  kind: 'order';
  /** MAX_PRODUCTS or beyond the scenario's products: a product that does not exist. */
  product: number;
  customer: number;
  id: 'server' | 'new' | 'replay' | 'conflict';
  pick: number;
  api: number;
};
type StockOp = { kind: 'stock'; product: number; total: number; api: number };
type Op = OrderOp | StockOp;

const orderOp: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('order' as const),
  product: fc.nat(MAX_PRODUCTS),
  customer: fc.nat(5),
  id: fc.constantFrom('server' as const, 'new' as const, 'replay' as const, 'conflict' as const),
  pick: fc.nat(),
  api: fc.nat(1),
});
const stockOp: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('stock' as const),
  product: fc.nat(MAX_PRODUCTS - 1),
  total: fc.nat(6),
  api: fc.nat(1),
});
const scenarios = fc.record({
  totals: fc.array(fc.nat(5), { minLength: 1, maxLength: MAX_PRODUCTS }),
  waves: fc.array(
    fc.array(fc.oneof({ weight: 6, arbitrary: orderOp }, { weight: 1, arbitrary: stockOp }), {
      minLength: 1,
      maxLength: 40,
    }),
    { minLength: 1, maxLength: 5 },
  ),
});

/** What each documented answer may be; anything else fails the property. */
const ORDER_ANSWERS = new Set([
  '201',
  '200',
  '409 out_of_stock',
  '409 duplicate_customer',
  '409 order_id_conflict',
  '400 invalid_request',
  '503 unavailable',
]);
const STOCK_ANSWERS = new Set(['200', '201', '409 below_reserved']);
const answer = (res: HttpResponse) => {
  const code = (res.json as { error?: { code?: string } } | undefined)?.error?.code;
  return code ? `${res.status} ${code}` : String(res.status);
};

let run = 0;

async function playScenario(scenario: { totals: number[]; waves: Op[][] }) {
  run += 1;
  const productIds = scenario.totals.map((_, i) => `agree-${run}-${i}`);
  const productId = (index: number) => productIds[index] ?? `agree-${run}-unknown`;
  const admin = (api: number, product: number, total: number) => {
    const target = apis[api] ?? apis[0]!;
    return target.http.request(`/api/admin/products/${productId(product)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${target.adminToken}` },
      body: { total },
    });
  };
  for (const [i, total] of scenario.totals.entries()) {
    assert.equal((await admin(0, i, total)).status, 201, 'product created');
  }

  const sent: { body: Record<string, unknown>; product: number }[] = [];
  const reservedBy = new Map<string, number>();
  let nextId = 0;
  for (const wave of scenario.waves) {
    const sentNow: typeof sent = [];
    await Promise.all(
      wave.map(async (op) => {
        if (op.kind === 'stock') {
          const res = await admin(op.api, op.product % productIds.length, op.total);
          assert.ok(STOCK_ANSWERS.has(answer(res)), `stock change answered ${answer(res)}`);
          return;
        }
        const earlier = sent.length > 0 ? sent[op.pick % sent.length] : undefined;
        let body: Record<string, unknown>;
        let product = op.product;
        if ((op.id === 'replay' || op.id === 'conflict') && earlier) {
          product = earlier.product;
          body = op.id === 'replay' ? earlier.body : { ...earlier.body, lastName: 'Conflicting' };
        } else {
          body = {
            productId: productId(op.product),
            firstName: 'Prop',
            lastName: 'Erty',
            phone: `+35840${1_000_000 + run * 8 + op.customer}`,
            ...(op.id !== 'server' && { orderId: `agree-${run}-order-${nextId++}` }),
          };
          if (body['orderId'] !== undefined) sentNow.push({ body, product: op.product });
        }
        const res = await (apis[op.api] ?? apis[0]!).http.request('/api/orders', { body });
        assert.ok(
          ORDER_ANSWERS.has(answer(res)),
          `order answered ${answer(res)}: ${JSON.stringify(res.json)}`,
        );
        if (res.status === 201)
          reservedBy.set(productId(product), (reservedBy.get(productId(product)) ?? 0) + 1);
      }),
    );
    sent.push(...sentNow);
  }

  // Quiet: everything committed so far has been applied by the consumer.
  const { rows: at } = await db.owner.query<{ lsn: string }>(
    'select pg_current_wal_insert_lsn()::text as lsn',
  );
  assert.ok(await cdc.consumer.appliedThrough(at[0]!.lsn, 15_000), 'the consumer caught up');

  const { rows: tables } = await db.owner.query<{
    product_id: string;
    name: string;
    total: number;
    remaining: number;
    orders: number;
  }>(
    `select p.product_id, p.name, p.total,
            (select coalesce(sum(s.remaining), 0)::int from crs.stock_shards s
              where s.product_id = p.product_id) as remaining,
            (select count(*)::int from crs.orders o where o.product_id = p.product_id) as orders
       from crs.products p where p.product_id = any($1) order by p.product_id`,
    [productIds],
  );
  assert.equal(tables.length, productIds.length);
  for (const table of tables) {
    const id = table.product_id;
    assert.ok(table.remaining >= 0, `${id}: never oversold`);
    assert.equal(table.orders, reservedBy.get(id) ?? 0, `${id}: one order per 201`);
    assert.equal(table.total - table.remaining, table.orders, `${id}: total = remaining + reserved`);
    const expected = { name: table.name, total: table.total, remaining: table.remaining };

    const flag = await readStockFlag(redis, id);
    assert.ok(flag, `${id}: a flag`);
    assert.deepEqual(
      { name: flag.name, total: flag.total, remaining: flag.remaining },
      expected,
      `${id}: the flag equals the tables`,
    );
    assert.equal(flag.available, table.remaining > 0, `${id}: available exactly when units remain`);

    // The event that carries the flag's newest change is on its way (confirmed by the broker
    // before the consumer acknowledged): wait for it to arrive.
    const last = await waitFor(
      `${id}: the stock.changed event of LSN ${flag.lsn}`,
      async () => {
        const mine = feed.filter((e) => e.type === 'crs.stock.changed.v2' && e.data.productId === id);
        const newest = mine[mine.length - 1];
        return newest && lsnKey(newest.commitlsn) >= flag.lsn ? newest : undefined;
      },
      10_000,
    );
    assert.deepEqual(
      { name: last.data.name, total: last.data.total, remaining: last.data.remaining },
      expected,
      `${id}: the last stock.changed event equals the tables`,
    );
    assert.equal(last.data.available, table.remaining > 0, `${id}: the event's available`);
  }
}

t.test('flag, last stock.changed event and tables agree after any mix of orders', async (t) => {
  t.comment(`seed ${SEED}, ${RUNS} runs (CRS_PROPERTY_SEED / CRS_PROPERTY_RUNS)`);
  await fc.assert(fc.asyncProperty(scenarios, playScenario), {
    numRuns: RUNS,
    seed: SEED,
    // Each run is a few hundred real requests; report the first failing scenario as it is.
    endOnFailure: true,
  });
  t.pass(`${RUNS} scenarios agreed`);
});

t.test('the change feed arrives in commit order, each transaction together', async (t) => {
  t.ok(feed.length > RUNS, `${feed.length} events heard`);
  const seen = new Set<string>();
  let previous = '';
  let position = -1;
  let disorder = 0;
  for (const event of feed) {
    const key = lsnKey(event.commitlsn);
    // (commitlsn, txposition) increases by one within a transaction, and never goes back.
    const expected = key === previous ? position + 1 : 0;
    if (key < previous || (key !== previous && seen.has(key)) || event.txposition !== expected) {
      disorder += 1;
      if (disorder <= 3) {
        t.fail(
          `${event.type} ${event.id} at ${event.commitlsn}/${event.txposition} after ${previous}/${position}`,
        );
      }
    }
    seen.add(key);
    previous = key;
    position = event.txposition;
  }
  t.equal(disorder, 0, 'no event before one of an earlier transaction, none apart from its own');
  t.equal(new Set(feed.map((e) => e.id)).size, feed.length, 'no event twice (no failure here to redeliver)');
});
