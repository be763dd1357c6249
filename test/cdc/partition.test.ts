/**
 * The CDC consumer cut off from Postgres or from RabbitMQ the way a lost node is: bytes stop,
 * sockets stay open (drill/partitionProxy.ts). Keepalives cannot see this (the proxy's
 * kernel answers them); the replication protocol's own status messages, bounded waits and the
 * slot fence must. Nothing may be lost, no effect doubled, and it recovers within 30 s of the
 * heal, or of the takeover where a standby runs.
 */
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { readStockFlag } from '../../common/stockFlag.js';
import {
  cdcRole,
  everyOrderHasItsJob,
  flagMatchesTable,
  placeOrders,
  renderJobs,
  spawnCdc,
  waitFor,
  type CdcEnvOptions,
} from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { proxyFor } from '../support/partition.js';
import { makeTestVhost, startTestRedis, subscribe } from '../support/services.js';

const amqpUrl = await makeTestVhost(t);
const CUT_MS = 25_000;

/** Every order.created on the feed, in arrival order. */
async function followCreated(t: Test): Promise<string[]> {
  const created: string[] = [];
  await subscribe(t, amqpUrl, { name: 'crs.changes', type: 'topic', bindingKey: 'order.created' }, (event) =>
    created.push((event as { data: { orderId: string } }).data.orderId),
  );
  return created;
}

async function setUp(t: Test, productId: string) {
  const db = await makeTestDatabase(t);
  const redisServer = await startTestRedis(t);
  const redis = new Redis(redisServer.url);
  t.teardown(() => redis.disconnect());
  await db.owner.query(`select crs.upsert_product($1, $1, 1000)`, [productId]);
  const options: CdcEnvOptions = { redisUrl: redisServer.url, amqpUrl };
  return { db, redis, options };
}

t.test('cut off from Postgres with a standby running: it takes over, the healed one stands by', async (t) => {
  const { db, redis, options } = await setUp(t, 'cut-pg');
  const created = await followCreated(t);
  const proxy = await proxyFor(t, db.urls.cdc);
  // The one behind the proxy starts first, so it is the active one.
  const active = await spawnCdc(t, { ...db, urls: { ...db.urls, cdc: proxy.rewrite(db.urls.cdc) } }, options);
  await waitFor(
    'the proxied consumer to be active',
    async () => (await cdcRole(active.probeUrl)) === 'active',
  );
  const standby = await spawnCdc(t, db, options);
  await waitFor('the standby', async () => (await cdcRole(standby.probeUrl)) === 'standby');
  await placeOrders(db, { productId: 'cut-pg', count: 50 });
  await waitFor('the flag to match', () => flagMatchesTable(db, redis, 'cut-pg'));

  proxy.cut();
  const cutAt = Date.now();
  const during = await placeOrders(db, { productId: 'cut-pg', count: 50 });
  await waitFor('the standby to stream', async () => (await cdcRole(standby.probeUrl)) === 'active', 30_000);
  const takeoverMs = Date.now() - cutAt;
  t.ok(takeoverMs <= 30_000, `the standby took over ${takeoverMs} ms after the cut`);
  await waitFor('orders of the cut on the flag', () => flagMatchesTable(db, redis, 'cut-pg'), 30_000);
  await waitFor('orders of the cut to have their jobs', () => everyOrderHasItsJob(db, 'cut-pg'), 30_000);
  t.comment(`orders of the cut applied ${Date.now() - cutAt} ms after it`);

  await new Promise((resolve) => setTimeout(resolve, Math.max(0, CUT_MS - (Date.now() - cutAt))));
  proxy.heal();
  await waitFor(
    'the healed consumer to stand by',
    async () => (await cdcRole(active.probeUrl)) === 'standby',
    30_000,
  );
  await placeOrders(db, { productId: 'cut-pg', count: 50 });
  await waitFor('orders after the heal on the flag', () => flagMatchesTable(db, redis, 'cut-pg'));
  t.same(
    [await cdcRole(active.probeUrl), await cdcRole(standby.probeUrl)],
    ['standby', 'active'],
    'exactly one active consumer',
  );
  t.equal((await readStockFlag(redis, 'cut-pg'))?.remaining, 850);
  await waitFor('every order.created heard', async () => created.length >= 150, 10_000);
  t.equal(created.length, new Set(created).size, 'no order.created published twice');
  t.ok(
    during.reserved.every((id) => created.includes(id)),
    'orders of the cut are on the feed',
  );
  t.equal(active.child.exitCode, null, 'the healed consumer still runs');
});

t.test('cut off from Postgres alone: not ready while cut, caught up within 30 s of the heal', async (t) => {
  const { db, redis, options } = await setUp(t, 'alone');
  const proxy = await proxyFor(t, db.urls.cdc);
  const cdc = await spawnCdc(t, { ...db, urls: { ...db.urls, cdc: proxy.rewrite(db.urls.cdc) } }, options);
  await waitFor('the consumer to be active', async () => (await cdcRole(cdc.probeUrl)) === 'active');
  await placeOrders(db, { productId: 'alone', count: 20 });
  await waitFor('the flag to match', () => flagMatchesTable(db, redis, 'alone'));

  proxy.cut();
  const cutAt = Date.now();
  await placeOrders(db, { productId: 'alone', count: 30 });
  const notReady = await waitFor(
    'the consumer to say it is not ready',
    async () => {
      // As the kubelet asks (timeoutSeconds: 3): the probe itself must answer, and say no.
      const response = await fetch(`${cdc.probeUrl}/readyz`, { signal: AbortSignal.timeout(3_000) });
      return response.status === 503 ? Date.now() - cutAt : undefined;
    },
    CUT_MS,
  );
  t.comment(`not ready ${notReady} ms after the cut`);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, CUT_MS - (Date.now() - cutAt))));
  t.notOk(await everyOrderHasItsJob(db, 'alone'), 'nothing was applied through the cut');

  proxy.heal();
  const healedAt = Date.now();
  await waitFor('orders of the cut to have their jobs', () => everyOrderHasItsJob(db, 'alone'), 30_000);
  await waitFor('the flag to match again', () => flagMatchesTable(db, redis, 'alone'), 30_000);
  const recoveredMs = Date.now() - healedAt;
  t.ok(recoveredMs <= 30_000, `caught up ${recoveredMs} ms after the heal`);
  await waitFor('ready again', async () => (await cdcRole(cdc.probeUrl)) === 'active', 30_000);
  t.equal((await readStockFlag(redis, 'alone'))?.remaining, 950);
  t.equal(new Set(await renderJobs(db)).size, 50, 'one job per order');
  t.equal(cdc.child.exitCode, null, 'it rode the partition out without exiting');
});

t.test('cut off from RabbitMQ: the feed holds back, then delivers every event', async (t) => {
  const { db, redis, options } = await setUp(t, 'cut-amqp');
  const created = await followCreated(t);
  const proxy = await proxyFor(t, amqpUrl);
  const cdc = await spawnCdc(t, db, { ...options, amqpUrl: proxy.rewrite(amqpUrl) });
  await waitFor('the consumer to be active', async () => (await cdcRole(cdc.probeUrl)) === 'active');
  await placeOrders(db, { productId: 'cut-amqp', count: 20 });
  await waitFor('the first orders on the feed', async () => created.length >= 20);

  proxy.cut();
  const cutAt = Date.now();
  const during = await placeOrders(db, { productId: 'cut-amqp', count: 30 });
  await new Promise((resolve) => setTimeout(resolve, CUT_MS));
  t.ok(created.length < 50, `${created.length - 20} events of the cut arrived through it`);

  proxy.heal();
  const healedAt = Date.now();
  await waitFor(
    'every order.created after the heal',
    async () => during.reserved.every((id) => created.includes(id)),
    30_000,
  ).catch((err: unknown) => {
    t.comment(cdc.output().slice(-6000));
    throw err;
  });
  const recoveredMs = Date.now() - healedAt;
  t.ok(
    recoveredMs <= 30_000,
    `the feed caught up ${recoveredMs} ms after the heal (${healedAt - cutAt} ms cut)`,
  );
  await waitFor('the flag to match', () => flagMatchesTable(db, redis, 'cut-amqp'));
  await placeOrders(db, { productId: 'cut-amqp', count: 10 });
  await waitFor('orders after the heal on the feed', async () => new Set(created).size >= 60);
  t.equal(new Set(created).size, 60, 'every order on the feed');
  // At least once: a publish whose confirm was lost in the cut is sent again, with its id.
  t.comment(`${created.length - new Set(created).size} events delivered twice (same id)`);
  t.equal(cdc.child.exitCode, null, 'it rode the partition out without exiting');
});
