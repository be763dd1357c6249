/**
 * crs.enqueue_render_jobs (sql/job_queue.sql) when two enqueues for the same order overlap
 * (a retried CDC batch while the first try's enqueue is still under way): the second waits
 * for the first to commit and then leaves its job alone, rather than rewriting it (or, had
 * the renderer locked it meanwhile, retiring it for good behind a second job).
 */
import t from 'tap';
import { makeTestDatabase, placeOrderDirectly } from '../support/database.js';

const db = await makeTestDatabase(t);
await db.owner.query(`select crs.upsert_product('jobs', 'Jobs', 10)`);
let phones = 0;
async function placeOrder(orderId: string) {
  phones += 1;
  const phone = `+35840123${String(phones).padStart(4, '0')}`;
  await placeOrderDirectly(db, { orderId, productId: 'jobs', phone });
}
const enqueue = async (orderId: string) =>
  (await db.pool('cdc').query<{ n: number }>('select crs.enqueue_render_jobs($1) as n', [[orderId]])).rows[0]
    ?.n;

// The private table, not the view: a job that gave up its key is found only by its payload,
// which graphile_worker.jobs does not show.
const jobsOf = async (orderId: string) =>
  (
    await db.owner.query<{ id: string; revision: number; attempts: number; key: string | null }>(
      `select id, revision, attempts, key from graphile_worker._private_jobs
        where payload->>'orderId' = $1 order by id`,
      [orderId],
    )
  ).rows;

t.test('an enqueue overlapping another waits its turn and leaves the job alone', async (t) => {
  const orderId = 'overlapping-enqueue-1';
  await placeOrder(orderId);
  const first = await db.pool('cdc').connect();
  const second = await db.pool('cdc').connect();
  t.teardown(() => {
    first.release();
    second.release();
  });
  await first.query('begin');
  const queued = await first.query<{ n: number }>('select crs.enqueue_render_jobs($1) as n', [[orderId]]);
  t.equal(queued.rows[0]?.n, 1, 'the first queues the job');

  let secondDone = false;
  const secondEnqueue = second
    .query<{ n: number }>('select crs.enqueue_render_jobs($1) as n', [[orderId]])
    .finally(() => (secondDone = true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(secondDone, 'the second waits while the first is not committed');
  await first.query('commit');
  const again = await secondEnqueue;
  t.equal(again.rows[0]?.n, 0, 'the second queues nothing');

  const jobs = await jobsOf(orderId);
  t.equal(jobs.length, 1, 'one job');
  t.equal(jobs[0]?.revision, 0, 'not rewritten by the second enqueue');
  t.equal(jobs[0]?.key, `render_voucher:${orderId}`);
});

t.test('a replayed enqueue leaves a running job alone; an exhausted one is queued again', async (t) => {
  const orderId = 'replayed-enqueue-1';
  await placeOrder(orderId);
  t.equal(await enqueue(orderId), 1);
  // A renderer takes it (as graphile-worker's get_job does: no public function locks a job).
  await db.owner.query(
    `update graphile_worker._private_jobs set locked_at = now(), locked_by = 'pool-test', attempts = 1
      where key = $1`,
    [`render_voucher:${orderId}`],
  );
  t.equal(await enqueue(orderId), 0, 'the replay queues nothing');
  const running = await jobsOf(orderId);
  t.equal(running.length, 1);
  t.equal(running[0]?.key, `render_voucher:${orderId}`, 'the running job keeps its key');
  t.equal(running[0]?.attempts, 1, 'and is not retired');

  // Its attempts used up (and unlocked): crs reconcile queues it again.
  await db.owner.query(
    `update graphile_worker._private_jobs set locked_at = null, locked_by = null, attempts = max_attempts
      where key = $1`,
    [`render_voucher:${orderId}`],
  );
  t.equal(await enqueue(orderId), 1, 'an exhausted job is queued again');
  const jobs = await jobsOf(orderId);
  t.equal(jobs.length, 2, 'a new job, the failed one kept as its record');
  t.equal(jobs[0]?.key, null, 'the failed one gives up its key');
  t.equal(jobs[1]?.key, `render_voucher:${orderId}`);
  t.equal(jobs[1]?.attempts, 0);
});
