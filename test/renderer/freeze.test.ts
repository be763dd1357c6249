/**
 * A renderer frozen (SIGSTOP) with jobs locked, its connections open: graphile-worker alone
 * would keep those jobs locked for four hours. Its lease lapses instead
 * (renderer/workerLiveness.ts), another renderer renders them, and once woken it stores and
 * announces nothing (the fence before the upload in renderVoucherTask.ts).
 */
import t from 'tap';
import { orderIdOfKey } from '../../common/objectStore.js';
import { placeOrders, waitFor } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { rendererEnv } from '../support/renderer.js';
import { spawnCrs } from '../support/process.js';
import { makeTestVhost, startTestS3, subscribe } from '../support/services.js';

const db = await makeTestDatabase(t);
const amqpUrl = await makeTestVhost(t);
const s3 = await startTestS3(t, { amqpUrl, bucket: true });

// Every bucket notification, by key: a voucher stored twice is announced twice.
const announced = new Map<string, number>();
await subscribe(t, amqpUrl, { name: 'crs.vouchers', type: 'fanout' }, (body) => {
  const key = (body as { Key: string }).Key.replace(/^vouchers\//, '');
  announced.set(key, (announced.get(key) ?? 0) + 1);
});

const spawnRenderer = () =>
  spawnCrs(t, ['renderer'], rendererEnv(db, s3.env, { RENDERER_CONCURRENCY: '1', LOG_LEVEL: 'warn' }));

async function lockedJobs(): Promise<{ lockedBy: string; n: number }[]> {
  const { rows } = await db.owner.query<{ locked_by: string; n: number }>(
    `select locked_by, count(*)::int as n from graphile_worker.jobs
      where locked_by is not null group by locked_by`,
  );
  return rows.map((row) => ({ lockedBy: row.locked_by, n: row.n }));
}

async function waitingForVoucher(): Promise<number> {
  const { rows } = await db.owner.query<{ n: number }>(
    `select count(*)::int as n from crs.orders where product_id = 'freeze' and voucher_stored_at is null`,
  );
  return rows[0]?.n ?? -1;
}

t.test('jobs of a frozen renderer are rendered elsewhere; woken, it stores nothing', async (t) => {
  await db.owner.query(`select crs.upsert_product('freeze', 'Freeze', 1000)`);
  const { reserved } = await placeOrders(db, { productId: 'freeze', count: 400 });
  const frozen = spawnRenderer();
  t.teardown(() => frozen.child.kill('SIGCONT'));
  await db.pool('cdc').query('select crs.enqueue_render_jobs($1)', [reserved]);
  await waitFor('the renderer to be busy', async () => (await waitingForVoucher()) < 380);

  // Freeze it while it holds jobs (it fetches two at a time; between fetches it holds none).
  let held: { lockedBy: string; n: number }[] = [];
  for (let tries = 0; tries < 50 && held.length === 0; tries += 1) {
    frozen.child.kill('SIGSTOP');
    held = await lockedJobs();
    if (held.length === 0) {
      frozen.child.kill('SIGCONT');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const frozenAt = Date.now();
  t.ok(held.length === 1, `frozen holding ${held[0]?.n} jobs under ${held[0]?.lockedBy}`);

  const other = spawnRenderer();
  await waitFor('every voucher stored', async () => (await waitingForVoucher()) === 0, 90_000);
  const tookMs = Date.now() - frozenAt;
  t.ok(tookMs <= 60_000, `the frozen renderer's jobs were rendered elsewhere ${tookMs} ms after the freeze`);
  t.same(await lockedJobs(), [], 'no job left locked');
  await waitFor('every voucher announced', async () =>
    reserved.every((id) => announced.has(`orders/${id}.pdf`)),
  );
  const beforeWake = new Map(announced);

  frozen.child.kill('SIGCONT');
  // It runs what it held in memory and finds each job taken over; an upload it had begun
  // before the freeze (past the fence) finds the voucher stored (If-None-Match: *).
  const fenced = () => frozen.output().split('job taken over by another renderer').length - 1;
  await waitFor('the woken renderer to settle', async () => fenced() >= held[0]!.n - 1, 10_000).catch(() =>
    t.comment(`woken renderer's log:\n${frozen.output().slice(-4000)}`),
  );
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const after = [...announced].filter(([key, n]) => n > (beforeWake.get(key) ?? 0)).map(([key]) => key);
  t.same(after, [], 'nothing announced after the wake');
  // The jobs it held in memory: each fenced off (logged), or returned unrun to the queue.
  t.comment(`${fenced()} of the ${held[0]!.n} jobs it held were fenced off by the woken renderer`);
  const twice = [...announced].filter(([key, n]) => n > 1 && orderIdOfKey(key)).map(([key]) => key);
  t.same(twice, [], 'no voucher stored or announced twice');
  const { rows } = await db.owner.query<{ n: number }>(
    `select count(*)::int as n from crs.orders where product_id = 'freeze' and status = 'voucher_ready'`,
  );
  t.equal(rows[0]?.n, reserved.length, 'every order has its voucher');
  t.equal(other.child.exitCode, null, 'the other renderer still runs');
  t.equal(frozen.child.exitCode, null, 'the woken renderer still runs');
});
