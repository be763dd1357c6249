/**
 * A migration at noon: an index and a constraint added to crs.orders holding 100,000 orders,
 * while orders keep flowing and a long transaction (a report) holds crs.orders. Without
 * lock_timeout the ALTER waits behind the report and every new order queues behind the ALTER;
 * with it (crs migrate's default) the ALTER gives up within lock_timeout, is tried again with
 * backoff, and goes through once the report ends. Whatever the migration does, no order waits
 * much longer than lock_timeout. The index is built CONCURRENTLY in a no-transaction migration.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { migrationsDir, sqlDir } from '../../common/paths.js';
import { migrate, migrationStatus, type MigrateOptions } from '../../migrations/runner.js';
import { makeTestDatabase, placeOrderDirectly } from '../support/database.js';

const LOCK_TIMEOUT_MS = 500;
const REPORT_MS = 3_000;
const db = await makeTestDatabase(t);
await db.owner.query(
  `select crs.upsert_product('bulk', 'Bulk', 100000), crs.upsert_product('flow', 'Flow', 1000000)`,
);
// 100,000 existing orders, written directly (the flow of new ones goes through place_order).
await db.owner.query(`
  insert into crs.orders (order_id, product_id, customer_key, first_name, last_name, phone,
                          coupon_code, token_hash, token_salt)
  select 'bulk-' || lpad(i::text, 8, '0'), 'bulk', encode(sha256(('customer' || i)::bytea), 'hex'), 'Bulk', 'Order',
         '+3584' || lpad(i::text, 8, '0'), 'BULK-' || i, sha256(i::text::bytea),
         substring(sha256(('salt' || i)::bytea) from 1 for 16)
    from generate_series(1, 100000) as i`);

const dir = await mkdtemp(join(tmpdir(), 'crs-live-migration-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const sources = { migrationsDir: join(dir, 'migrations'), sqlDir: join(dir, 'sql') };
await cp(migrationsDir, sources.migrationsDir, { recursive: true });
await cp(sqlDir, sources.sqlDir, { recursive: true });
// Expand: the constraint NOT VALID (no scan under the lock), then, outside a transaction, the
// index built CONCURRENTLY and the constraint validated (which locks only SHARE UPDATE EXCLUSIVE).
await writeFile(
  join(sources.migrationsDir, '900001_orders_live_check.sql'),
  `-- A live change for the test: a check on existing orders, not validated yet.
alter table crs.orders add constraint orders_live_names check (first_name <> last_name) not valid;
`,
);
await writeFile(
  join(sources.migrationsDir, '900002_orders_live_index.sql'),
  `-- crs:no-transaction
-- Each statement is safe to run again: a failed run is repeated whole.
drop index concurrently if exists crs.orders_live_created;
create index concurrently orders_live_created on crs.orders (created_at);
alter table crs.orders validate constraint orders_live_names;
`,
);

/** Places orders one after another until stopped; returns each one's latency. */
function orderFlow() {
  let running = true;
  const latencies: number[] = [];
  /** When each order was answered. */
  const finished: number[] = [];
  const done = (async () => {
    while (running) {
      const started = Date.now();
      const phone = `+3585${String(randomBytes(4).readUInt32BE() % 100_000_000).padStart(8, '0')}`;
      const outcome = await placeOrderDirectly(db, {
        orderId: randomBytes(12).toString('base64url'),
        productId: 'flow',
        phone,
      });
      if (outcome !== 'reserved' && outcome !== 'duplicate_customer') throw new Error(`order: ${outcome}`);
      latencies.push(Date.now() - started);
      finished.push(Date.now());
    }
  })();
  return {
    latencies,
    finished,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** A report: a transaction that reads crs.orders and stays open for `ms`. */
async function report(ms: number) {
  const client = new pg.Client({ connectionString: db.urls.owner });
  await client.connect();
  await client.query('begin');
  await client.query('select count(*) from crs.orders');
  return new Promise<void>((resolve) =>
    setTimeout(async () => {
      await client.query('commit');
      await client.end();
      resolve();
    }, ms),
  );
}

t.test('with lock_timeout, orders never wait long behind a migration that waits', async (t) => {
  const flow = orderFlow();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const reportDone = report(REPORT_MS);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const client = new pg.Client({ connectionString: db.urls.owner });
  await client.connect();
  t.teardown(() => client.end());
  const progress: string[] = [];
  const options: MigrateOptions = {
    lockTimeoutMs: LOCK_TIMEOUT_MS,
    statementTimeoutMs: 60_000,
    lockRetries: 8,
    retryDelayMs: 250,
  };
  const started = Date.now();
  const result = await migrate(client, sources, (line) => progress.push(line), options);
  const tookMs = Date.now() - started;
  await reportDone;
  await new Promise((resolve) => setTimeout(resolve, 300));
  await flow.stop();

  t.same(result.applied, ['900001_orders_live_check.sql', '900002_orders_live_index.sql']);
  t.ok(
    progress.some((line) =>
      /900001_orders_live_check\.sql: waited 500 ms for a lock .* trying again/.test(line),
    ),
    'the ALTER behind the report gave up within lock_timeout and said so',
  );
  t.ok(tookMs >= REPORT_MS - 500, `applied once the report ended (${tookMs} ms)`);
  const worst = Math.max(...flow.latencies);
  t.comment(
    `${flow.latencies.length} orders during the migration; the slowest took ${worst} ms (lock_timeout ${LOCK_TIMEOUT_MS} ms)`,
  );
  // Not a throughput figure (this machine's speed varies): orders were answered all along
  // the time the migration waited for its lock, not held until it had it.
  const during = flow.finished.filter((at) => at > started + LOCK_TIMEOUT_MS && at < started + tookMs - 500);
  t.ok(during.length >= 3, `orders kept flowing while the migration waited (${during.length} answered)`);
  t.ok(
    worst < LOCK_TIMEOUT_MS + 1_500,
    `no order waited much longer than lock_timeout (slowest ${worst} ms)`,
  );

  const { rows } = await db.owner.query<{ valid: boolean; indexed: boolean }>(`
    select (select convalidated from pg_constraint where conname = 'orders_live_names') as valid,
           (select indisvalid from pg_index where indexrelid = 'crs.orders_live_created'::regclass) as indexed`);
  t.same(rows[0], { valid: true, indexed: true }, 'the constraint validated, the index built and valid');
  const statuses = await migrationStatus(client, sources);
  t.ok(
    statuses.every((s) => s.state === 'applied'),
    'both recorded',
  );
});

t.test('a lock that never comes free: the migration stops, nothing of it applied', async (t) => {
  await writeFile(
    join(sources.migrationsDir, '900003_orders_live_more.sql'),
    `alter table crs.orders add constraint orders_live_more check (phone <> '') not valid;\n`,
  );
  const holder = new pg.Client({ connectionString: db.urls.owner });
  await holder.connect();
  t.teardown(() => holder.end());
  await holder.query('begin');
  await holder.query('select count(*) from crs.orders');
  const client = new pg.Client({ connectionString: db.urls.owner });
  await client.connect();
  t.teardown(() => client.end());
  await t.rejects(
    migrate(client, sources, () => undefined, {
      lockTimeoutMs: 200,
      statementTimeoutMs: 60_000,
      lockRetries: 2,
      retryDelayMs: 50,
    }),
    {
      code: 'lock_timeout',
      message:
        /900003_orders_live_more\.sql could not get its locks within lock_timeout \(200 ms\) in 3 tries/,
    },
  );
  await holder.query('commit');
  const { rows } = await db.owner.query(`select 1 from pg_constraint where conname = 'orders_live_more'`);
  t.equal(rows.length, 0, 'nothing applied');
  const pending = (await migrationStatus(client, sources)).find(
    (s) => s.name === '900003_orders_live_more.sql',
  );
  t.equal(pending?.state, 'pending', 'and not recorded: the next run tries again');
});
