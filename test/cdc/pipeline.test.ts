/**
 * The CDC pipeline on real services: committed orders and stock changes reach the stock flag
 * in Redis, the render job queue and the change feed, exactly; replays change nothing; the API
 * reads the flag and refuses sold-out orders without the database.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { makeBatchApplier } from '../../cdc/applyBatch.js';
import { makeChangeFeed } from '../../cdc/changeFeed.js';
import {
  CHANGE_TYPES,
  CLOUDEVENTS_JSON,
  changeOf,
  cloudEventType,
  dataSchemaId,
  parseFeedEvent,
} from '../../cdc/cloudEvents.js';
import { deriveEffects, type ChangeType } from '../../cdc/effects.js';
import { makeCdcMetrics } from '../../cdc/metrics.js';
import type { Transaction } from '../../cdc/transactions.js';
import { readChangeStream, readNetwork } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { packageRoot } from '../../common/paths.js';
import { applyStockValues, readStockFlag } from '../../common/stockFlag.js';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';
import { placeOrders, renderJobs, startTestCdc, waitFor } from '../support/cdc.js';
import { makeTestVhost, startTestRedis } from '../support/services.js';

const db = await makeTestDatabase(t);
const redisServer = await startTestRedis(t);
const amqpUrl = await makeTestVhost(t);
const redis = new Redis(redisServer.url);
t.teardown(() => redis.disconnect());

// A feed subscriber, bound before anything happens, so it must see every event.
const connection = await amqp.connect(amqpUrl);
t.teardown(() => connection.close());
const channel = await connection.createChannel();
await channel.assertExchange('crs.changes', 'topic', { durable: true });
const { queue } = await channel.assertQueue('', { exclusive: true });
await channel.bindQueue(queue, 'crs.changes', '#');
const events: { routingKey: string; body: Record<string, unknown>; message: amqp.ConsumeMessage }[] = [];
await channel.consume(queue, (message) => {
  if (!message) return;
  events.push({
    routingKey: message.fields.routingKey,
    body: JSON.parse(message.content.toString()),
    message,
  });
  channel.ack(message);
});

const cdc = await startTestCdc(t, db, { redisUrl: redisServer.url, amqpUrl });
const admin = db.owner;

/** The consumer's batch applier on this file's services, to feed it transactions by hand. */
function makeTestApplier(t: Test) {
  const log = makeLogger({ level: 'silent', component: 'test' });
  const feed = makeChangeFeed(amqpUrl, log, readNetwork({}), {
    source: 'crs://test',
    stream: readChangeStream({}),
  });
  t.teardown(() => feed.close());
  return makeBatchApplier({
    pool: db.pool('cdc'),
    redis,
    feed,
    log,
    metrics: makeCdcMetrics({ defaultMetrics: false }),
  });
}

t.test('orders and stock changes reach the flag, the job queue and the feed, exactly', async (t) => {
  await admin.query(`select crs.upsert_product('cdc-one', 'CDC one', 300)`);
  const { reserved } = await placeOrders(db, { productId: 'cdc-one', count: 200, concurrency: 8 });
  t.equal(reserved.length, 200);
  await admin.query(`select crs.upsert_product('cdc-one', 'CDC one renamed', 250)`);

  const flag = await waitFor('the flag to show 50 remaining', async () => {
    const f = await readStockFlag(redis, 'cdc-one');
    return f && f.remaining === 50 && f.total === 250 ? f : undefined;
  });
  t.same([flag.name, flag.total, flag.remaining, flag.available], ['CDC one renamed', 250, 50, true]);

  const jobs = await waitFor('200 render jobs', async () => {
    const keys = await renderJobs(db);
    return keys.filter((k) => reserved.includes(k)).length === 200 ? keys : undefined;
  });
  t.equal(new Set(jobs).size, jobs.length, 'one job per order');

  const created = await waitFor('200 order.created events', async () => {
    const mine = events.filter(
      (e) =>
        e.routingKey === 'order.created' &&
        reserved.includes(String((e.body['data'] as { orderId: string }).orderId)),
    );
    return mine.length >= 200 ? mine : undefined;
  });
  t.equal(new Set(created.map((e) => e.body['id'])).size, 200, 'one event per order (distinct ids)');
  const stockEvents = events.filter((e) => e.routingKey === 'stock.changed');
  t.ok(stockEvents.length > 0, 'stock.changed events');
  const lastStock = await waitFor('a stock.changed event at 50 remaining', async () =>
    events.find(
      (e) =>
        e.routingKey === 'stock.changed' &&
        (e.body['data'] as { productId: string; remaining: number }).productId === 'cdc-one' &&
        (e.body['data'] as { remaining: number }).remaining === 50,
    ),
  );
  t.ok(lastStock);
});

t.test('every event is a CloudEvent, its data valid against the JSON Schema of its type', async (t) => {
  // One order through every state, so the run has each type of event.
  await admin.query(`select crs.upsert_product('cdc-types', 'CDC types', 1)`);
  const { reserved } = await placeOrders(db, { productId: 'cdc-types', count: 1 });
  const orderId = reserved[0]!;
  await admin.query(`select crs.record_voucher($1, 'orders/' || $1 || '.pdf')`, [orderId]);
  const { rows } = await admin.query('select coupon_code from crs.orders where order_id = $1', [orderId]);
  await admin.query(`select * from crs.redeem_voucher($1, 'test')`, [rows[0]?.coupon_code]);
  await waitFor('order.redeemed', async () =>
    events.some(
      (e) => e.routingKey === 'order.redeemed' && (e.body['data'] as { orderId: string }).orderId === orderId,
    )
      ? true
      : undefined,
  );

  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  const dir = join(packageRoot, 'cdc', 'schemas');
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();
  for (const file of await readdir(dir)) {
    const schema = JSON.parse(await readFile(join(dir, file), 'utf8')) as { $id: string };
    validators.set(schema.$id, ajv.compile(schema));
  }
  t.same([...validators.keys()].sort(), CHANGE_TYPES.map((type) => dataSchemaId(type)).sort());
  t.ok(events.length > 200);
  const problems: string[] = [];
  const types = new Set<string>();
  for (const { routingKey, message } of events) {
    try {
      // The SDK validates the envelope (throws on an invalid CloudEvent).
      const event = parseFeedEvent(message.content);
      types.add(event.type);
      if (message.properties.contentType !== CLOUDEVENTS_JSON) throw new Error('content type');
      if (message.properties.messageId !== event.id) throw new Error('AMQP message id is not the event id');
      if (changeOf(event.type) !== routingKey) throw new Error(`type ${event.type} under ${routingKey}`);
      if (event.dataschema !== dataSchemaId(routingKey as ChangeType)) throw new Error('dataschema');
      if (event.datacontenttype !== 'application/json' || !event.source.startsWith('crs://')) {
        throw new Error('datacontenttype or source');
      }
      if (typeof event['commitlsn'] !== 'string' || !Number.isInteger(event['txposition'])) {
        throw new Error('commitlsn and txposition extensions');
      }
      const data = event.data as Record<string, unknown>;
      if (event.subject !== String(data['orderId'] ?? data['productId'])) throw new Error('subject');
      const validate = validators.get(event.dataschema ?? '');
      if (!validate?.(data)) throw new Error(JSON.stringify(validate?.errors ?? 'no schema'));
    } catch (err) {
      problems.push(`${routingKey}: ${(err as Error).message}`);
    }
  }
  t.same(problems.slice(0, 5), [], `all ${events.length} events valid`);
  t.same([...types].sort(), CHANGE_TYPES.map(cloudEventType).sort(), 'every type of event was seen');
});

t.test('replaying the same transactions, in any order, changes nothing', async (t) => {
  const before = await readStockFlag(redis, 'cdc-one');
  const jobsBefore = await renderJobs(db);
  // Rebuild transactions like the ones already applied, with their LSNs, and apply them
  // again backwards and in pieces, as a crash-and-replay would.
  const { rows } = await admin.query<{ order_id: string; created_at: Date }>(
    `select order_id, created_at from crs.orders where product_id = 'cdc-one' order by created_at limit 20`,
  );
  const oldLsn = '0/1000';
  const replay: Transaction[] = rows.map((row, i) => ({
    xid: i,
    commitLsn: oldLsn,
    endLsn: oldLsn,
    commitTime: row.created_at.getTime(),
    changes: [
      {
        table: 'orders',
        op: 'insert',
        row: {
          order_id: row.order_id,
          product_id: 'cdc-one',
          status: 'reserved',
          created_at: row.created_at,
        },
      },
      { table: 'stock_shards', op: 'update', row: { product_id: 'cdc-one', shard: i % 4, remaining: 999 } },
    ],
  }));
  const apply = makeTestApplier(t);
  await apply(replay.slice(10).reverse());
  await apply(replay.slice(0, 10));
  t.same(
    await readStockFlag(redis, 'cdc-one'),
    { ...before, updatedAt: (await readStockFlag(redis, 'cdc-one'))?.updatedAt },
    'flag unchanged',
  );
  t.same(await renderJobs(db), jobsBefore, 'no job added or lost');
});

t.test('an older value never overwrites a newer one', async (t) => {
  await applyStockValues(redis, 'lsn-order', [
    { field: 'name', version: '0000000000000010', value: 'P' },
    { field: 'total', version: '0000000000000010', value: '10' },
    { field: 'shard:0', version: '0000000000000020', value: '4' },
  ]);
  await applyStockValues(redis, 'lsn-order', [{ field: 'shard:0', version: '0000000000000015', value: '9' }]);
  t.equal((await readStockFlag(redis, 'lsn-order'))?.remaining, 4);
  await applyStockValues(redis, 'lsn-order', [{ field: 'shard:0', version: '0000000000000030', value: '0' }]);
  const flag = await readStockFlag(redis, 'lsn-order');
  t.same([flag?.remaining, flag?.available, flag?.lsn], [0, false, '0000000000000030']);
});

t.test('a row written twice in one transaction: its last write wins, and only once', async (t) => {
  // As place_orders does: claim units for every order of a batch, give back those refused.
  const txn = (commitLsn: string, remaining: number[]): Transaction => ({
    xid: 1,
    commitLsn,
    endLsn: commitLsn,
    commitTime: Date.now(),
    changes: remaining.map((value) => ({
      table: 'stock_shards',
      op: 'update',
      row: { product_id: 'twice', shard: 0, remaining: value },
    })),
  });
  const product: Transaction = {
    xid: 0,
    commitLsn: '0/2000',
    endLsn: '0/2000',
    commitTime: Date.now(),
    changes: [
      { table: 'products', op: 'insert', row: { product_id: 'twice', name: 'Twice', total: 5 } },
      { table: 'stock_shards', op: 'insert', row: { product_id: 'twice', shard: 0, remaining: 5 } },
    ],
  };
  const apply = makeTestApplier(t);
  await apply([product, txn('0/3000', [1, 4])]);
  t.equal((await readStockFlag(redis, 'twice'))?.remaining, 4, 'took 4 then gave 3 back: 4 remain');
  // Replayed, alone and then with an older version of the same row: nothing moves.
  await apply([txn('0/3000', [1, 4])]);
  await apply([txn('0/3000', [2])]);
  t.equal((await readStockFlag(redis, 'twice'))?.remaining, 4, 'replays change nothing');
  // Separate batches in commit order, the later one again claiming and giving back.
  await apply([txn('0/4000', [0, 3])]);
  t.same(
    [(await readStockFlag(redis, 'twice'))?.remaining, (await readStockFlag(redis, 'twice'))?.available],
    [3, true],
  );
});

t.test('the feed of a batch is in commit order, each stock.changed at its last transaction', async (t) => {
  const order = (orderId: string) => ({
    table: 'orders' as const,
    op: 'insert' as const,
    row: { order_id: orderId, product_id: 'a', status: 'reserved', created_at: new Date() },
  });
  const shard = (productId: string, remaining: number) => ({
    table: 'stock_shards' as const,
    op: 'update' as const,
    row: { product_id: productId, shard: 0, remaining },
  });
  const txn = (commitLsn: string, changes: Transaction['changes']): Transaction => ({
    xid: 1,
    commitLsn,
    endLsn: commitLsn,
    commitTime: Date.now(),
    changes,
  });
  const effects = deriveEffects([
    txn('0/10', [shard('a', 9), order('order-0001'), shard('a', 8)]),
    txn('0/20', [shard('b', 3)]),
    txn('0/30', [order('order-0002'), shard('a', 7)]),
    txn('0/40', [order('order-0003')]),
  ]);
  t.same(
    effects.feed.map((item) =>
      'event' in item ? `${item.event.lsn} ${item.event.type}` : `stock ${item.stockOf}`,
    ),
    ['0/10 order.created', 'stock b', '0/30 order.created', 'stock a', '0/40 order.created'],
  );
  t.same(
    [...(effects.stock.get('a')?.values.values() ?? [])].map((v) => [v.field, v.value]),
    [['shard:0', '7']],
    "the batch's last value of the row",
  );
  t.equal(effects.stock.get('a')?.lsn, '0/30');
});

t.test('the API reads stock from the flag, and from Postgres when Redis has nothing', async (t) => {
  const { http } = await startTestApi(t, db, { REDIS_URL: redisServer.url });
  const fromFlag = await http.request('/api/stock?productId=cdc-one');
  t.equal(fromFlag.headers['x-stock-source'], 'redis');
  t.same(fromFlag.json, {
    productId: 'cdc-one',
    name: 'CDC one renamed',
    total: 250,
    remaining: 50,
    available: true,
  });
  await admin.query(`select crs.upsert_product('no-flag-yet', 'Fresh', 5)`);
  await redis.del('crs:stock:{no-flag-yet}', 'crs:stock:{no-flag-yet}:values');
  const fallback = await http.request('/api/stock?productId=no-flag-yet');
  t.equal(fallback.json.remaining, 5);
});

t.test('sold out: refused without the database, and healed within a second of new stock', async (t) => {
  const { http, api } = await startTestApi(t, db, { REDIS_URL: redisServer.url });
  await admin.query(`select crs.upsert_product('flash-cdc', 'Flash', 3)`);
  await placeOrders(db, { productId: 'flash-cdc', count: 3 });
  await waitFor(
    'the flag to say sold out',
    async () => (await readStockFlag(redis, 'flash-cdc'))?.available === false,
  );

  const answers = await Promise.all(
    Array.from({ length: 50 }, () =>
      http.request('/api/orders', { body: orderBody({ productId: 'flash-cdc' }) }),
    ),
  );
  t.ok(
    answers.every((a) => a.status === 409 && a.json.error.code === 'out_of_stock'),
    'all refused',
  );
  const counted = await api.deps.metrics.orders.get();
  const viaFlag = counted.values.find((v) => v.labels['outcome'] === 'out_of_stock_flag')?.value ?? 0;
  t.ok(viaFlag >= 49, `${viaFlag} of 50 answered from the flag`);

  // Sold out is answered as soon as the product is known, before the other fields are read.
  // (One request a second goes on to Postgres as the flag's probe: of three in a row, at most
  // one is it.)
  const early: { status: number; code: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await http.request('/api/orders', {
      body: { productId: 'flash-cdc', firstName: '', phone: 'not a phone', extra: true },
    });
    early.push({ status: res.status, code: res.json.error.code });
  }
  t.ok(
    early.filter((a) => a.status === 409 && a.code === 'out_of_stock').length >= 2,
    `a sold-out product is refused before its invalid fields: ${JSON.stringify(early)}`,
  );
  const invalidProduct = await http.request('/api/orders', {
    body: orderBody({ productId: 'not valid!' }),
  });
  t.equal(invalidProduct.status, 400, 'an invalid product id is still a field error');

  // An order with a client-chosen id may be a retry: only Postgres can tell.
  const placed = await http.request('/api/orders', {
    body: orderBody({ productId: 'cdc-one', orderId: 'retry-after-sellout' }),
  });
  t.equal(placed.status, 201);

  // New stock while CDC is stopped: the stale flag still says sold out, yet within a second
  // an order reaches Postgres and succeeds.
  await cdc.stop();
  await admin.query(`select crs.upsert_product('flash-cdc', 'Flash', 10)`);
  t.equal((await readStockFlag(redis, 'flash-cdc'))?.available, false, 'the flag is stale');
  const started = Date.now();
  const healed = await waitFor(
    'an order to get through',
    async () => {
      const res = await http.request('/api/orders', { body: orderBody({ productId: 'flash-cdc' }) });
      return res.status === 201 ? res : undefined;
    },
    5_000,
  );
  t.ok(healed);
  t.ok(Date.now() - started <= 1_500, `healed in ${Date.now() - started} ms`);
  // Postgres reserved an order while the flag said sold out: that flag is trusted no more,
  // neither to refuse nor to show, until CDC writes the product anew.
  t.equal((await readStockFlag(redis, 'flash-cdc'))?.available, false, 'the flag is still stale');
  const after = await Promise.all(
    Array.from({ length: 5 }, () =>
      http.request('/api/orders', { body: orderBody({ productId: 'flash-cdc' }) }),
    ),
  );
  t.same(
    after.map((a) => a.status),
    [201, 201, 201, 201, 201],
    'no buyer refused on a contradicted flag',
  );
  const shown = await http.request('/api/stock?productId=flash-cdc');
  t.same(
    [shown.headers['x-stock-source'], shown.json.remaining, shown.json.available],
    ['postgres', 1, true],
    'the stock shown comes from Postgres',
  );
});

t.test('the personal data purge tells the feed nothing: the order did not change', async (t) => {
  // The test before stopped the consumer: this one needs it running again.
  await startTestCdc(t, db, { redisUrl: redisServer.url, amqpUrl });
  await admin.query(`select crs.upsert_product('cdc-purge', 'CDC purge', 10)`);
  const { reserved } = await placeOrders(db, { productId: 'cdc-purge', count: 2, concurrency: 1 });
  const [purged, marker] = reserved as [string, string];
  await admin.query(`select crs.record_voucher($1, 'orders/' || $1 || '.pdf')`, [purged]);
  const { rows } = await admin.query<{ coupon_code: string }>(
    'select coupon_code from crs.orders where order_id = $1',
    [purged],
  );
  await admin.query(`select * from crs.redeem_voucher($1, 'test')`, [rows[0]?.coupon_code]);
  const about = (type: string, orderId: string) =>
    events.filter(
      (e) => e.routingKey === type && (e.body['data'] as { orderId: string }).orderId === orderId,
    );
  await waitFor('order.redeemed', async () => about('order.redeemed', purged).length === 1 || undefined);

  const { rows: done } = await admin.query<{ n: number }>('select crs.purge_personal_data(0, 1, 100) as n');
  t.ok((done[0]?.n ?? 0) >= 1, 'the redeemed order was purged');
  // Something after the purge, to know the stream has gone past it.
  await admin.query(`select crs.record_voucher($1, 'orders/' || $1 || '.pdf')`, [marker]);
  await waitFor('the marker', async () => about('voucher.stored', marker).length === 1 || undefined);
  t.equal(about('order.redeemed', purged).length, 1, 'still one order.redeemed');
  t.equal(about('voucher.stored', purged).length, 1, 'still one voucher.stored');
});
