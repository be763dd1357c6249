/**
 * The lapsed-lease sweep (renderer/workerLiveness.ts) must tell a live renderer from a dead
 * one by the id graphile-worker locks jobs under (its lease is renewed). Here a live renderer's job is held mid-run
 * (its record_voucher waits on a row lock the test holds) while another renderer sweeps: the
 * job stays locked by its owner and completes once, with one voucher.
 */
import pg from 'pg';
import t from 'tap';
import { makeLogger } from '../../common/log.js';
import { voucherKey } from '../../common/objectStore.js';
import { makeWorkerLiveness } from '../../renderer/workerLiveness.js';
import { makeTestDatabase, placeOrderDirectly } from '../support/database.js';
import { startTestRenderer } from '../support/renderer.js';
import { makeTestVhost, startTestS3 } from '../support/services.js';

const db = await makeTestDatabase(t);
const amqpUrl = await makeTestVhost(t);
const s3 = await startTestS3(t, { amqpUrl });
await db.owner.query(`select crs.upsert_product('liveness', 'Liveness', 10)`);
await startTestRenderer(t, db, s3.env);
// Only a superuser sees other roles' queries and lock waits.
const superuser = new pg.Pool({ connectionString: db.urls.superuser, max: 1 });
t.teardown(() => superuser.end());

const waitFor = async <T>(what: string, look: () => Promise<T | undefined>, ms = 20_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await look();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

t.test("a sweep leaves a live renderer's running job alone", async (t) => {
  const orderId = 'liveness-order-1';
  t.equal(
    await placeOrderDirectly(db, { orderId, productId: 'liveness', phone: '+358401110001' }),
    'reserved',
  );
  // Hold the order row: the renderer draws and stores the voucher, then waits to record it.
  const holder = await db.owner.connect();
  t.teardown(() => holder.release());
  await holder.query('begin');
  await holder.query('select 1 from crs.orders where order_id = $1 for update', [orderId]);
  await db.pool('cdc').query('select crs.enqueue_render_jobs($1)', [[orderId]]);

  const lockedBy = await waitFor('the job to be running', async () => {
    const { rows } = await db.owner.query<{ locked_by: string | null }>(
      `select locked_by from graphile_worker.jobs where key = $1`,
      [`render_voucher:${orderId}`],
    );
    return rows[0]?.locked_by ?? undefined;
  });
  await waitFor('record_voucher to wait on the row lock', async () => {
    const { rows } = await superuser.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where wait_event_type = 'Lock' and query like '%record_voucher%'`,
    );
    return (rows[0]?.n ?? 0) > 0 ? true : undefined;
  });

  const other = makeWorkerLiveness({
    pool: db.pool('renderer'),
    connectionString: db.urls.renderer,
    log: makeLogger({ level: 'silent', component: 'test' }),
    leaseMs: 20_000,
  });
  t.teardown(() => other.close());
  const dead = await other.sweep();
  t.notOk(dead.includes(lockedBy), `the live pool ${lockedBy} is not taken for dead`);
  const { rows: still } = await db.owner.query<{ locked_by: string | null }>(
    `select locked_by from graphile_worker.jobs where key = $1`,
    [`render_voucher:${orderId}`],
  );
  t.equal(still[0]?.locked_by, lockedBy, 'the job is still locked by its renderer');

  await holder.query('commit');
  await waitFor('the job to complete', async () => {
    const { rows } = await db.owner.query<{ n: number }>(
      `select count(*)::int as n from graphile_worker.jobs where key = $1`,
      [`render_voucher:${orderId}`],
    );
    return rows[0]?.n === 0 ? true : undefined;
  });
  const { rows } = await db.owner.query<{ status: string; voucher_key: string | null }>(
    'select status, voucher_key from crs.orders where order_id = $1',
    [orderId],
  );
  t.equal(rows[0]?.status, 'voucher_ready');
  t.equal(rows[0]?.voucher_key, voucherKey(orderId), 'one voucher, recorded by the job that was held');
});
