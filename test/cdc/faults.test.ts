/**
 * CDC under faults, on real services with the consumer as its own process: kill -9 in the
 * middle of a stream, Redis stopped for a while, the slot dropped, two consumers at once, the
 * active one frozen (SIGSTOP) with its sockets open.
 * Nothing may be lost and no flag may end stale.
 */
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { lsnNumber } from '../../cdc/metrics.js';
import { readStockFlag } from '../../common/stockFlag.js';
import { makeTestDatabase, type TestDatabase } from '../support/database.js';
import {
  cdcRole,
  everyOrderHasItsJob,
  flagMatchesTable,
  placeOrders,
  renderJobs,
  slotCaughtUp,
  spawnCdc,
  startTestCdc,
  waitFor,
} from '../support/cdc.js';
import { makeTestVhost, startTestRedis, subscribe } from '../support/services.js';

const amqpUrl = await makeTestVhost(t);

/** Two `crs cdc` processes on one slot: [the active one, the standby]. */
async function spawnPair(t: Test, db: TestDatabase, redisUrl: string) {
  const options = { redisUrl, amqpUrl };
  const [a, b] = await Promise.all([spawnCdc(t, db, options), spawnCdc(t, db, options)]);
  const roles = await waitFor('one active and one standby', async () => {
    const both = [await cdcRole(a.probeUrl), await cdcRole(b.probeUrl)];
    return both.includes('active') && both.includes('standby') ? both : undefined;
  });
  return roles[0] === 'active' ? ([a, b] as const) : ([b, a] as const);
}

t.test('kill -9 in the middle of 5,000 orders loses nothing and doubles nothing', async (t) => {
  const db = await makeTestDatabase(t);
  const redisServer = await startTestRedis(t);
  const redis = new Redis(redisServer.url);
  t.teardown(() => redis.disconnect());
  await db.owner.query(`select crs.upsert_product('kill', 'Kill', 100000)`);
  const options = { redisUrl: redisServer.url, amqpUrl };

  const first = await spawnCdc(t, db, options);
  await waitFor('the consumer to be active', async () => (await cdcRole(first.probeUrl)) === 'active');
  const ordering = placeOrders(db, { productId: 'kill', count: 5000, concurrency: 16 });
  // Kill it once it has handled part of the stream.
  await waitFor('some jobs queued', async () => (await renderJobs(db)).length >= 500, 60_000);
  first.child.kill('SIGKILL');
  await first.exited;
  const jobsAtKill = (await renderJobs(db)).length;
  const { reserved } = await ordering;
  t.equal(reserved.length, 5000);
  t.ok(jobsAtKill < 5000, `killed mid-stream (${jobsAtKill} jobs so far)`);

  const second = await spawnCdc(t, db, options);
  await waitFor('every order to have its job', () => everyOrderHasItsJob(db, 'kill'), 120_000);
  const jobs = await renderJobs(db);
  t.equal(jobs.length, 5000, 'exactly one job per order');
  t.equal(new Set(jobs).size, 5000);
  await waitFor('the flag to match the table', () => flagMatchesTable(db, redis, 'kill'), 30_000);
  t.equal((await readStockFlag(redis, 'kill'))?.remaining, 95000);
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0, 'a graceful stop exits 0');
});

t.test('Redis stopped for a while: no acknowledgement meanwhile, then it catches up', async (t) => {
  const db = await makeTestDatabase(t);
  const redisServer = await startTestRedis(t);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  t.teardown(() => redis.disconnect());
  await db.owner.query(`select crs.upsert_product('outage', 'Outage', 1000)`);
  const cdc = await startTestCdc(t, db, { redisUrl: redisServer.url, amqpUrl });
  await placeOrders(db, { productId: 'outage', count: 20 });
  await waitFor('the flag to catch up', () => flagMatchesTable(db, redis, 'outage'));

  await redisServer.stop();
  // A batch applied just before the stop may still be acknowledged: let it land first.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const ackedBefore = cdc.consumer.status().acknowledgedLsn;
  // Keepalive positions may still be acknowledged (even inside a transaction not yet
  // committed, which is then still sent), never one past the commit of an unapplied one.
  await placeOrders(db, { productId: 'outage', count: 1, concurrency: 1 });
  const { rows: afterFirst } = await db.owner.query<{ lsn: string }>(
    'select pg_current_wal_insert_lsn()::text as lsn',
  );
  await placeOrders(db, { productId: 'outage', count: 99 });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.ok(
    lsnNumber(cdc.consumer.status().acknowledgedLsn ?? '0/0') < lsnNumber(afterFirst[0]!.lsn),
    'nothing acknowledged past the first order placed while Redis is down',
  );
  t.equal(cdc.consumer.status().role, 'active');

  await redisServer.start();
  await waitFor('the flag to converge', () => flagMatchesTable(db, redis, 'outage'), 30_000);
  await waitFor('every order to have its job', () => everyOrderHasItsJob(db, 'outage'));
  await waitFor(
    'an acknowledgement after catching up',
    async () => cdc.consumer.status().acknowledgedLsn !== ackedBefore,
  );
  t.pass('acknowledged after catching up');
  t.equal((await readStockFlag(redis, 'outage'))?.remaining, 880);
});

t.test('the slot dropped while orders keep coming: recreated, reconciled, nothing missing', async (t) => {
  const db = await makeTestDatabase(t);
  const redisServer = await startTestRedis(t);
  const redis = new Redis(redisServer.url);
  t.teardown(() => redis.disconnect());
  await db.owner.query(`select crs.upsert_product('dropped', 'Dropped', 100000)`);
  const slot = `slot_${db.name}`;
  await startTestCdc(t, db, { redisUrl: redisServer.url, amqpUrl, slot });
  await waitFor('the slot to exist', async () => {
    const { rows } = await db.owner.query('select 1 from pg_replication_slots where slot_name = $1', [slot]);
    return rows.length === 1;
  });

  const ordering = placeOrders(db, { productId: 'dropped', count: 1500, concurrency: 8 });
  await waitFor('some jobs', async () => (await renderJobs(db)).length >= 100, 60_000);
  const superuser = db.pool('superuser', 1);
  await waitFor('the slot to be dropped', async () => {
    await superuser.query(
      'select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = $1 and active',
      [slot],
    );
    return superuser
      .query('select pg_drop_replication_slot($1)', [slot])
      .then(() => true)
      .catch(() => false);
  });
  const { reserved } = await ordering;
  t.equal(reserved.length, 1500);

  await waitFor('every order to have its job', () => everyOrderHasItsJob(db, 'dropped'), 60_000);
  await waitFor('the flag to match the table', () => flagMatchesTable(db, redis, 'dropped'), 30_000);
  const { rows } = await db.owner.query('select 1 from pg_replication_slots where slot_name = $1', [slot]);
  t.equal(rows.length, 1, 'the slot is back');
  t.equal(new Set(await renderJobs(db)).size, 1500);
});

t.test('two consumers at once: one consumes, the other takes over when it dies', async (t) => {
  const db = await makeTestDatabase(t);
  const redisServer = await startTestRedis(t);
  const redis = new Redis(redisServer.url);
  t.teardown(() => redis.disconnect());
  await db.owner.query(`select crs.upsert_product('pair', 'Pair', 1000)`);
  const [active, standby] = await spawnPair(t, db, redisServer.url);

  await placeOrders(db, { productId: 'pair', count: 50 });
  await waitFor('the flag to match', () => flagMatchesTable(db, redis, 'pair'));
  t.equal(await cdcRole(standby.probeUrl), 'standby', 'the standby stayed idle');

  active.child.kill('SIGKILL');
  await active.exited;
  await waitFor(
    'the standby to take over',
    async () => (await cdcRole(standby.probeUrl)) === 'active',
    30_000,
  );
  await placeOrders(db, { productId: 'pair', count: 50 });
  await waitFor(
    'orders after the takeover reach the flag',
    () => flagMatchesTable(db, redis, 'pair'),
    30_000,
  );
  t.equal((await readStockFlag(redis, 'pair'))?.remaining, 900);
  t.ok(await everyOrderHasItsJob(db, 'pair'));
});

t.test('SIGSTOP on the active consumer: the standby streams, the woken one stands by', async (t) => {
  const db = await makeTestDatabase(t);
  const redisServer = await startTestRedis(t);
  const redis = new Redis(redisServer.url);
  t.teardown(() => redis.disconnect());
  // A subscriber of the feed: every order.created must arrive once, the woken consumer's
  // stale batch (received before it froze) included.
  const created: string[] = [];
  await subscribe(t, amqpUrl, { name: 'crs.changes', type: 'topic', bindingKey: 'order.created' }, (event) =>
    created.push((event as { data: { orderId: string } }).data.orderId),
  );

  await db.owner.query(`select crs.upsert_product('frozen', 'Frozen', 1000)`);
  const [active, standby] = await spawnPair(t, db, redisServer.url);
  await placeOrders(db, { productId: 'frozen', count: 50 });
  await waitFor('the flag to match', () => flagMatchesTable(db, redis, 'frozen'));
  // The feed is published after the flag is written, and acknowledged after that: frozen in
  // between, the batch would rightly be published again by the standby (at least once).
  await slotCaughtUp(db);

  // Frozen with its sockets open: the kernel still acknowledges them, nothing closes.
  active.child.kill('SIGSTOP');
  const frozenAt = Date.now();
  t.teardown(() => active.child.kill('SIGCONT'));
  const during = await placeOrders(db, { productId: 'frozen', count: 50 });
  await waitFor('the standby to stream', async () => (await cdcRole(standby.probeUrl)) === 'active', 30_000);
  const takeoverMs = Date.now() - frozenAt;
  t.ok(takeoverMs <= 30_000, `the standby took over ${takeoverMs} ms after the freeze`);
  await waitFor('orders placed during the freeze on the flag', () => flagMatchesTable(db, redis, 'frozen'));
  await waitFor('every order placed during the freeze to have its job', () =>
    everyOrderHasItsJob(db, 'frozen'),
  );

  active.child.kill('SIGCONT');
  await waitFor('the woken consumer to stand by', async () => (await cdcRole(active.probeUrl)) === 'standby');
  await placeOrders(db, { productId: 'frozen', count: 50 });
  await waitFor('orders after the wake on the flag', () => flagMatchesTable(db, redis, 'frozen'));
  t.same(
    [await cdcRole(active.probeUrl), await cdcRole(standby.probeUrl)],
    ['standby', 'active'],
    'exactly one active consumer',
  );
  t.equal((await readStockFlag(redis, 'frozen'))?.remaining, 850);
  const { rows } = await db.owner.query<{ n: number }>(
    `select count(*)::int as n from crs.orders where product_id = 'frozen'`,
  );
  await waitFor('every order.created heard', async () => created.length >= rows[0]!.n, 10_000);
  t.equal(created.length, new Set(created).size, 'no order.created published twice');
  t.ok(
    during.reserved.every((id) => created.includes(id)),
    'orders of the freeze are on the feed',
  );
});

t.test('a batch held up by a lock: the watchdog reports what it waits on, then it recovers', async (t) => {
  const db = await makeTestDatabase(t);
  const redisServer = await startTestRedis(t);
  const redis = new Redis(redisServer.url);
  t.teardown(() => redis.disconnect());
  await db.owner.query(`select crs.upsert_product('held', 'Held', 1000)`);
  const cdc = await startTestCdc(t, db, {
    redisUrl: redisServer.url,
    amqpUrl,
    env: { CDC_STALL_MS: '3000' },
  });
  const readiness = async () => {
    const response = await fetch(`${cdc.probes.url}/readyz`);
    const body = (await response.json()) as {
      stalled?: { waitingOn: string };
      error?: { details?: { stalled?: { waitingOn: string; seconds: number } } };
    };
    return { status: response.status, stalled: body.stalled ?? body.error?.details?.stalled };
  };
  await placeOrders(db, { productId: 'held', count: 20 });
  await waitFor('the flag to match', () => flagMatchesTable(db, redis, 'held'));
  t.equal((await readiness()).status, 200);

  // Every render job enqueue takes this lock (sql/job_queue.sql): the next batch waits on it.
  const holder = await db.owner.connect();
  t.teardown(() => holder.release());
  await holder.query('begin');
  await holder.query(`select pg_advisory_xact_lock(hashtextextended('crs.enqueue_render_jobs', 0))`);
  await placeOrders(db, { productId: 'held', count: 5 });
  const reported = await waitFor('the watchdog to report the stall', async () => {
    const now = await readiness();
    return now.status === 503 && now.stalled ? now.stalled : undefined;
  });
  t.match(reported.waitingOn, /render jobs \(postgres\)/, `waiting on: ${reported.waitingOn}`);
  const metrics = () => fetch(`${cdc.probes.url}/metrics`).then((r) => r.text());
  await waitFor('the stall counted', async () => /^crs_cdc_stalls_total [1-9]/m.test(await metrics()));
  t.match(await metrics(), /^crs_cdc_oldest_unapplied_seconds [3-9]/m, 'the oldest transaction waits');

  await holder.query('commit');
  await waitFor('every order to have its job', () => everyOrderHasItsJob(db, 'held'), 30_000);
  await waitFor('the flag to match again', () => flagMatchesTable(db, redis, 'held'));
  await waitFor('ready again', async () => (await readiness()).status === 200, 15_000);
  t.equal((await readStockFlag(redis, 'held'))?.remaining, 975);
});
