/**
 * A CDC slot invalidated because it fell max_slot_wal_keep_size behind (the consumer was away
 * too long): START_REPLICATION fails on it at every try, so the consumer used to retry for
 * ever. It drops it, makes a new one and reconciles (flags and render jobs from the tables).
 *
 * On a Postgres of this file's own: the cap is a server setting, and a tiny one on the shared
 * test server would invalidate other files' slots.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import t from 'tap';
import { startCdc } from '../../cdc/service.js';
import { loadCdcConfig, loadMigrateConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { readStockFlag } from '../../common/stockFlag.js';
import { bootstrapDatabase } from '../../devstack/bootstrap.js';
import { makeLocalPostgres } from '../../devstack/postgres.js';
import { newSecret } from '../../devstack/secrets.js';
import { runMigrations } from '../../migrations/migrateDatabase.js';
import { waitFor } from '../support/cdc.js';
import { freePort, makeTestVhost, startTestRedis } from '../support/services.js';

const dir = await mkdtemp(join(tmpdir(), 'crs-slot-lost-'));
const server = makeLocalPostgres({ dir, port: await freePort(), superuserPassword: newSecret() });
await server.start();
t.teardown(async () => {
  await server.destroy().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});
const passwords = { owner: newSecret(), api: newSecret(), cdc: newSecret(), renderer: newSecret() };
const urls = await bootstrapDatabase(server.superuserUrl, 'crs', passwords);
await runMigrations(
  loadMigrateConfig({ DATABASE_URL: urls.owner, LOG_LEVEL: 'silent' }),
  makeLogger({ level: 'silent', component: 'migrate' }),
);
const superuser = new pg.Pool({ connectionString: server.superuserUrl.replace(/\/[^/]*$/, '/crs'), max: 2 });
const owner = new pg.Pool({ connectionString: urls.owner, max: 2 });
t.teardown(async () => {
  await owner.end();
  await superuser.end();
});
const amqpUrl = await makeTestVhost(t);
const redisServer = await startTestRedis(t);
const redis = new Redis(redisServer.url);
t.teardown(() => redis.disconnect());

const config = loadCdcConfig({
  CDC_DATABASE_URL: urls.cdc,
  REDIS_URL: redisServer.url,
  AMQP_URL: amqpUrl,
  CDC_SLOT: 'crs_cdc_lost',
  CDC_PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
});
const startConsumer = async () => {
  const cdc = await startCdc(config, makeLogger({ level: 'silent', component: 'cdc' }));
  await waitFor('the stream to open', async () => cdc.consumer.status().streaming, 30_000);
  return cdc;
};
const placeOrders = async (count: number, prefix: 'a' | 'b' | 'c') => {
  for (let i = 0; i < count; i += 1) {
    const phone = `+358401${'abc'.indexOf(prefix)}${String(i).padStart(5, '0')}`;
    const { rows } = await owner.query<{ outcome: string }>(
      `select outcome from crs.place_order($1, 'lost', $2, 'Test', 'Customer', $2,
                                           crs.gen_random_bytes(32), crs.gen_random_bytes(16))`,
      [`${prefix}-order-${String(i).padStart(6, '0')}`, phone],
    );
    if (rows[0]?.outcome !== 'reserved') throw new Error(`order not reserved: ${rows[0]?.outcome}`);
  }
};
const walStatus = async () =>
  (
    await superuser.query<{ wal_status: string }>(
      `select wal_status from pg_replication_slots where slot_name = 'crs_cdc_lost'`,
    )
  ).rows[0]?.wal_status;

t.test('an invalidated slot is dropped, made anew and reconciled', async (t) => {
  await owner.query(`select crs.upsert_product('lost', 'Lost', 1000)`);
  const first = await startConsumer();
  await placeOrders(5, 'a');
  await waitFor('the flag', async () => (await readStockFlag(redis, 'lost'))?.remaining === 995);
  await first.stop();

  // Away too long: orders go on, WAL piles up past a tiny cap, a checkpoint invalidates it.
  await superuser.query(`alter system set max_slot_wal_keep_size = '1MB'`);
  await superuser.query('select pg_reload_conf()');
  await placeOrders(10, 'b');
  await waitFor(
    'the slot to be invalidated',
    async () => {
      await superuser.query(`select pg_switch_wal()`);
      await superuser.query(`create temporary table filler as select g from generate_series(1, 20000) g`);
      await superuser.query(`drop table filler`);
      await superuser.query('checkpoint');
      return (await walStatus()) === 'lost';
    },
    30_000,
  );
  await superuser.query(`alter system reset max_slot_wal_keep_size`);
  await superuser.query('select pg_reload_conf()');

  const second = await startConsumer();
  t.teardown(() => second.stop());
  t.not(await walStatus(), 'lost', 'the slot was made anew');
  await waitFor(
    'the flag to be reconciled',
    async () => (await readStockFlag(redis, 'lost'))?.remaining === 985,
    30_000,
  );
  const { rows } = await owner.query<{ n: number }>(
    `select count(*)::int as n from graphile_worker.jobs where key like 'render_voucher:b-order-%'`,
  );
  t.equal(rows[0]?.n, 10, 'the orders placed while it was away have their render jobs (reconciled)');
  await placeOrders(3, 'c');
  await waitFor(
    'orders after it stream again',
    async () => (await readStockFlag(redis, 'lost'))?.remaining === 982,
  );
  t.pass('streaming from the new slot');
});
