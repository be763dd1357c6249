/**
 * crs reconcile rebuilds what is derived from Postgres: a wiped Redis gets every stock flag
 * back, and every order without a stored voucher gets its render job.
 */
import { Redis } from 'ioredis';
import t from 'tap';
import { readStockFlag } from '../../common/stockFlag.js';
import { placeOrders, renderJobs } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { spawnCrs } from '../support/process.js';
import { startTestRedis } from '../support/services.js';

t.test('a wiped cache and missing jobs are rebuilt from the tables', async (t) => {
  const db = await makeTestDatabase(t);
  const redisServer = await startTestRedis(t);
  const redis = new Redis(redisServer.url);
  t.teardown(() => redis.disconnect());
  await db.owner.query(`select crs.upsert_product('rebuilt', 'Rebuilt', 40)`);
  const { reserved } = await placeOrders(db, { productId: 'rebuilt', count: 15 });
  t.same(await renderJobs(db), [], 'no consumer ran: no jobs, no flags');

  const run = spawnCrs(t, ['reconcile'], {
    CDC_DATABASE_URL: db.urls.cdc,
    REDIS_URL: redisServer.url,
    LOG_LEVEL: 'warn',
  });
  t.equal(await run.exited, 0, run.output());
  const summary = JSON.parse(run.output().trim().split('\n').pop() ?? '{}');
  t.match(summary, { products: 2, jobs: 15 });

  const flag = await readStockFlag(redis, 'rebuilt');
  t.same([flag?.total, flag?.remaining, flag?.available], [40, 25, true]);
  t.same((await renderJobs(db)).sort(), [...reserved].sort(), 'one job per order');

  const again = spawnCrs(t, ['reconcile'], {
    CDC_DATABASE_URL: db.urls.cdc,
    REDIS_URL: redisServer.url,
    LOG_LEVEL: 'warn',
  });
  t.equal(await again.exited, 0);
  t.equal((await renderJobs(db)).length, 15, 'running it again doubles nothing');
});
