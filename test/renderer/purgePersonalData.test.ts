/**
 * The daily purge_personal_data task (renderer/purgePersonalData.ts): registered as a
 * graphile-worker cron item by the renderer, run by it as the renderer role, purging in
 * batches until nothing is due, and logging how many without personal data.
 */
import t from 'tap';
import { loadRendererConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import {
  PURGE_SCHEDULE,
  PURGE_TASK,
  purgeCronItems,
  purgePersonalData,
} from '../../renderer/purgePersonalData.js';
import { startRenderer } from '../../renderer/service.js';
import { makeTestDatabase, placeOrderDirectly } from '../support/database.js';
import { rendererEnv } from '../support/renderer.js';
import { makeTestVhost, startTestS3 } from '../support/services.js';

const db = await makeTestDatabase(t);
const renderer = db.pool('renderer');
await db.owner.query(`select crs.upsert_product('purged', 'Purged', 1000)`);

let counter = 0;
/** Orders redeemed `daysAgo` days ago; their phones. */
async function redeemedOrders(count: number, daysAgo: number): Promise<string[]> {
  const phones: string[] = [];
  for (let i = 0; i < count; i += 1) {
    counter += 1;
    const orderId = `purge-task-${counter}`;
    const phone = `+3584088${String(counter).padStart(5, '0')}`;
    phones.push(phone);
    await placeOrderDirectly(db, { orderId, productId: 'purged', phone });
    await db.owner.query(
      `update crs.orders
          set status = 'redeemed', redeemed_at = now() - make_interval(days => $2)
        where order_id = $1`,
      [orderId, daysAgo],
    );
  }
  return phones;
}

async function remainingPhones(phones: string[]): Promise<number> {
  const { rows } = await db.owner.query<{ n: number }>(
    'select count(*)::int as n from crs.orders where phone = any ($1)',
    [phones],
  );
  return rows[0]?.n ?? -1;
}

t.test('the cron item: the purge task, daily, caught up after downtime', async (t) => {
  const [item] = purgeCronItems();
  t.equal(item?.task, PURGE_TASK);
  t.equal(item?.identifier, PURGE_TASK);
  t.equal(PURGE_SCHEDULE, '17 3 * * *');
  t.match(item?.options, { backfillPeriod: 24 * 3600 * 1000, jobKey: PURGE_TASK, maxAttempts: 5 });
  const at = (iso: string) => {
    const d = new Date(iso);
    return {
      min: d.getUTCMinutes(),
      hour: d.getUTCHours(),
      date: d.getUTCDate(),
      month: d.getUTCMonth() + 1,
      dow: d.getUTCDay(),
    };
  };
  t.ok(item?.match(at('2030-01-02T03:17:00Z')), 'runs at 03:17 UTC');
  t.notOk(item?.match(at('2030-01-02T04:17:00Z')), 'once a day');
});

t.test('purgePersonalData goes batch by batch until nothing is due', async (t) => {
  const due = await redeemedOrders(5, 40);
  const kept = await redeemedOrders(1, 5);
  const log = makeLogger({ level: 'silent', component: 'test' });
  const deps = { pool: renderer, log, retentionDays: 30, voucherExpiryDays: 90, batchSize: 2 };
  t.equal(await purgePersonalData(deps), 5, 'three batches: 2, 2, 1');
  t.equal(await remainingPhones(due), 0);
  t.equal(await remainingPhones(kept), 1, 'redeemed 5 days ago: kept');
  t.equal(await purgePersonalData(deps), 0, 'nothing twice');
});

t.test('the renderer registers the cron item and runs the task as the renderer role', async (t) => {
  const due = await redeemedOrders(3, 31);
  const lines: string[] = [];
  const s3 = await startTestS3(t, { amqpUrl: await makeTestVhost(t) });
  const config = loadRendererConfig(rendererEnv(db, s3.env, { PII_RETENTION_DAYS: '30' }));
  t.equal(config.piiRetentionDays, 30);
  const running = await startRenderer(
    config,
    makeLogger({ level: 'info', component: 'renderer', destination: { write: (line) => lines.push(line) } }),
  );
  t.teardown(() => running.stop());

  // graphile-worker records each cron item it schedules (the renderer role may: job queue access).
  // Its scheduler starts after run() resolves, so the record comes a moment after the start.
  const knownCrontabs = async () =>
    (
      await db.owner.query<{ identifier: string }>(
        'select identifier from graphile_worker._private_known_crontabs',
      )
    ).rows.map((r) => r.identifier);
  let known = await knownCrontabs();
  for (
    const until = Date.now() + 10_000;
    known.length === 0 && Date.now() < until;
    known = await knownCrontabs()
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.same(known, [PURGE_TASK]);

  // Today's run, as the schedule would add it.
  await renderer.query(
    `select graphile_worker.add_job($1, '{"_cron": {"ts": "2030-01-02T03:17:00Z"}}'::json, job_key => $1)`,
    [PURGE_TASK],
  );
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !lines.some((line) => line.includes('personal data purged'))) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.equal(await remainingPhones(due), 0, 'the due orders were purged');
  const done = lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((e) => e['msg'] === 'personal data purged');
  t.match(done, { purged: 3, retentionDays: 30 }, 'how many, logged');
  const logged = lines.join('\n');
  for (const phone of due) t.notMatch(logged, phone.slice(1), 'no phone number in the logs');
  t.notMatch(logged, /Virtanen|Aino/, 'no names in the logs');
  const { rows } = await db.owner.query(
    `select count(*)::int as n from graphile_worker.jobs where task_identifier = $1`,
    [PURGE_TASK],
  );
  t.equal(rows[0].n, 0, 'the job completed');
});
