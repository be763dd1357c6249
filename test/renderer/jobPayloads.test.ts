/**
 * The render_voucher payload across the queue: what crs.enqueue_render_jobs builds in SQL is
 * what its declaration (types/graphile-worker-tasks.d.ts) says, as graphile-worker hands it
 * to the task; a payload that is not fails the job for good at once, with a stable error.
 */
import { runOnce, type Task } from 'graphile-worker';
import t from 'tap';
import { toGraphileLogger } from '../../common/graphileLogger.js';
import { makeLogger } from '../../common/log.js';
import type { ObjectStore } from '../../common/objectStore.js';
import type { FontSet } from '../../renderer/fonts.js';
import { parseRenderVoucherPayload, type RenderVoucherPayload } from '../../renderer/jobPayloads.js';
import { makeRendererMetrics } from '../../renderer/metrics.js';
import { makeRenderVoucherTask } from '../../renderer/renderVoucherTask.js';
import { makeTestDatabase, placeOrderDirectly } from '../support/database.js';

const db = await makeTestDatabase(t);
await db.owner.query(`select crs.upsert_product('payloads', 'Payloads', 10)`);
const renderer = db.pool('renderer');
const logger = toGraphileLogger(makeLogger({ level: 'silent', component: 'test' }));

/** Runs every job due now, as the renderer role does, with these tasks. */
const runJobs = (taskList: { render_voucher: Task<'render_voucher'> }) =>
  runOnce({ pgPool: renderer, taskList, logger, noHandleSignals: true });

interface JobRow {
  key: string | null;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
}
const jobById = async (id: string) =>
  (
    await db.owner.query<JobRow>(
      'select key, attempts, max_attempts, last_error from graphile_worker.jobs where id = $1',
      [id],
    )
  ).rows[0];

t.test('the payload crs.enqueue_render_jobs builds is the declared one, as the task gets it', async (t) => {
  const orderId = 'payload-order-1';
  t.equal(
    await placeOrderDirectly(db, { orderId, productId: 'payloads', phone: '+358401230001' }),
    'reserved',
  );
  const { rows } = await db
    .pool('cdc')
    .query<{ n: number }>('select crs.enqueue_render_jobs($1) as n', [[orderId]]);
  t.equal(rows[0]?.n, 1, 'queued through the SQL function CDC calls');

  const handed: { payload: unknown; key: string | null }[] = [];
  await runJobs({
    render_voucher: (payload, helpers) => void handed.push({ payload, key: helpers.job.key }),
  });
  t.equal(handed.length, 1, 'graphile-worker ran the job once');
  // Typed with the declaration: a field added to it fails to compile here until the SQL and
  // this expectation say the same.
  const declared: RenderVoucherPayload = { orderId };
  t.strictSame(handed[0]?.payload, declared, 'exactly the declared fields, no more, no fewer');
  t.strictSame(parseRenderVoucherPayload(handed[0]?.payload), declared, 'and it passes the check');
  t.equal(handed[0]?.key, `render_voucher:${orderId}`);
  const { rows: left } = await db.owner.query(
    `select count(*)::int as n from graphile_worker.jobs where task_identifier = 'render_voucher'`,
  );
  t.equal(left[0].n, 0, 'the job completed');
});

t.test(
  'the check: fields it does not know are ignored; a payload without a valid orderId is refused',
  async (t) => {
    t.strictSame(parseRenderVoucherPayload({ orderId: 'abcdefgh', later: 1 }), { orderId: 'abcdefgh' });
    for (const payload of [
      null,
      'abcdefgh',
      ['abcdefgh'],
      {},
      { orderId: 42 },
      { orderId: '../etc' },
      { order_id: 'abcdefgh' },
    ]) {
      t.throws(
        () => parseRenderVoucherPayload(payload),
        { name: 'MalformedJobPayloadError', code: 'MALFORMED_JOB_PAYLOAD' },
        JSON.stringify(payload),
      );
    }
  },
);

t.test('a job with a malformed payload fails for good at once, its error stable', async (t) => {
  const metrics = makeRendererMetrics({ defaultMetrics: false });
  const task = makeRenderVoucherTask({
    pool: renderer,
    // Never reached: the payload is refused before anything is read, drawn or stored.
    store: {} as ObjectStore,
    fonts: {} as FontSet,
    log: makeLogger({ level: 'silent', component: 'test' }),
    metrics,
    liveness: { held: async () => true },
  });
  const payloads = ['{"orderId": 42}', '{"order_id": "malformed-1"}', '"malformed-2"'];
  const ids: string[] = [];
  for (const [i, payload] of payloads.entries()) {
    const { rows } = await db.owner.query<{ id: string }>(
      `select id from graphile_worker.add_job('render_voucher', $1::json, job_key => $2)`,
      [payload, `render_voucher:malformed-${i}`],
    );
    ids.push(rows[0]!.id);
  }
  let ran = 0;
  await runJobs({
    render_voucher: (payload, helpers) => {
      ran += 1;
      return task(payload, helpers);
    },
  });
  t.equal(ran, payloads.length, 'each ran once');
  for (const [i, id] of ids.entries()) {
    const job = await jobById(id);
    t.ok(job, `${payloads[i]}: kept as a failed job`);
    t.equal(job?.attempts, job?.max_attempts, `${payloads[i]}: no attempts left`);
    t.equal(job?.key, null, `${payloads[i]}: its key freed`);
    t.match(
      job?.last_error,
      /^MALFORMED_JOB_PAYLOAD: render_voucher payload /,
      `${payloads[i]}: stable error`,
    );
  }
  const failed = await metrics.jobsFailedForGood.get();
  t.equal(failed.values[0]?.value, payloads.length, 'counted as failed for good');
  const { rows } = await db.owner.query<{ failed: string }>(
    'select failed from crs.monitoring_render_jobs()',
  );
  t.equal(rows[0]?.failed, String(payloads.length), 'and monitoring sees them');

  // Due now, backoff or not: only attempts left would make them run.
  await db.owner.query('select graphile_worker.reschedule_jobs($1::bigint[], run_at => now())', [ids]);
  await runJobs({
    render_voucher: () => {
      ran += 1;
    },
  });
  t.equal(ran, payloads.length, 'none runs again');
});
