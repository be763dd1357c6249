/**
 * A renderer cut off from Postgres the way a lost node is: bytes stop, its sockets stay open
 * (drill/partitionProxy.ts), while the object store and RabbitMQ still answer it. Its
 * lease lapses on the database's clock, another renderer renders what it held; healed, it
 * stores nothing another renderer owns and no voucher is stored twice, and alone it catches up within 30 s of the heal.
 */
import t from 'tap';
import { placeOrders, waitFor } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { proxyFor } from '../support/partition.js';
import { spawnCrs } from '../support/process.js';
import { rendererEnv } from '../support/renderer.js';
import { makeTestVhost, startTestS3, subscribe } from '../support/services.js';

const db = await makeTestDatabase(t);
const amqpUrl = await makeTestVhost(t);
const s3 = await startTestS3(t, { amqpUrl, bucket: true });
const CUT_MS = 25_000;

const announced = new Map<string, number>();
await subscribe(t, amqpUrl, { name: 'crs.vouchers', type: 'fanout' }, (body) => {
  const key = (body as { Key: string }).Key;
  announced.set(key, (announced.get(key) ?? 0) + 1);
});

const spawnRenderer = (databaseUrl = db.urls.renderer) =>
  spawnCrs(
    t,
    ['renderer'],
    rendererEnv(db, s3.env, {
      RENDERER_DATABASE_URL: databaseUrl,
      RENDERER_CONCURRENCY: '1',
      LOG_LEVEL: 'warn',
    }),
  );

async function waitingForVoucher(productId: string): Promise<number> {
  const { rows } = await db.owner.query<{ n: number }>(
    `select count(*)::int as n from crs.orders where product_id = $1 and voucher_stored_at is null`,
    [productId],
  );
  return rows[0]?.n ?? -1;
}

async function order(productId: string, count: number) {
  await db.owner.query(`select crs.upsert_product($1, $1, 1000)`, [productId]);
  const { reserved } = await placeOrders(db, { productId, count });
  await db.pool('cdc').query('select crs.enqueue_render_jobs($1)', [reserved]);
  return reserved;
}

const twice = () => [...announced].filter(([, n]) => n > 1).map(([key]) => key);

t.test(
  'cut off with jobs in hand: another renderer renders them, the healed one stores nothing twice',
  async (t) => {
    const proxy = await proxyFor(t, db.urls.renderer);
    const cutOff = spawnRenderer(proxy.rewrite(db.urls.renderer));
    const reserved = await order('taken-over', 300);
    await waitFor(
      'the renderer to be busy',
      async () => (await waitingForVoucher('taken-over')) < 290,
      60_000,
    );

    proxy.cut();
    const cutAt = Date.now();
    const other = spawnRenderer();
    await waitFor('every voucher stored', async () => (await waitingForVoucher('taken-over')) === 0, 90_000);
    const tookMs = Date.now() - cutAt;
    t.ok(tookMs <= 60_000, `rendered elsewhere ${tookMs} ms after the cut`);
    await waitFor('every voucher announced', async () =>
      reserved.every((id) => announced.has(`vouchers/orders/${id}.pdf`)),
    );

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, CUT_MS - (Date.now() - cutAt))));
    const beforeHeal = new Map(announced);
    proxy.heal();
    // What it had in hand fails or is fenced off; new work is shared again.
    const more = await order('after-heal', 40);
    await waitFor(
      'orders after the heal rendered',
      async () => (await waitingForVoucher('after-heal')) === 0,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const again = [...announced]
      .filter(
        ([key, n]) => reserved.some((id) => key.endsWith(`/${id}.pdf`)) && n > (beforeHeal.get(key) ?? 0),
      )
      .map(([key]) => key);
    t.same(again, [], 'nothing of the cut stored or announced again after the heal');
    // An upload done just before the cut, not recorded: the job taken over finds the voucher
    // stored (If-None-Match: *) and records it; it is not stored or announced again.
    t.same(twice(), [], 'no voucher announced twice');
    t.ok(
      more.every((id) => announced.has(`vouchers/orders/${id}.pdf`)),
      'orders after the heal announced',
    );
    t.equal(cutOff.child.exitCode, null, 'the healed renderer still runs');
    t.equal(other.child.exitCode, null, 'the other renderer still runs');
    other.child.kill('SIGTERM');
    await other.exited;
  },
);

t.test('alone and cut off: everything rendered within 30 s of the heal', async (t) => {
  const proxy = await proxyFor(t, db.urls.renderer);
  const alone = spawnRenderer(proxy.rewrite(db.urls.renderer));
  const first = await order('alone', 100);
  await waitFor('the renderer to be busy', async () => (await waitingForVoucher('alone')) < 95, 60_000);
  proxy.cut();
  const second = await order('alone', 50);
  await new Promise((resolve) => setTimeout(resolve, CUT_MS));
  proxy.heal();
  const healedAt = Date.now();
  await waitFor('every voucher stored', async () => (await waitingForVoucher('alone')) === 0, 60_000).catch(
    (err: unknown) => {
      t.comment(alone.output().slice(-4000));
      throw err;
    },
  );
  const recoveredMs = Date.now() - healedAt;
  t.ok(recoveredMs <= 30_000, `every voucher stored ${recoveredMs} ms after the heal`);
  await waitFor('every voucher announced', async () =>
    [...first, ...second].every((id) => announced.has(`vouchers/orders/${id}.pdf`)),
  );
  t.equal(alone.child.exitCode, null, 'it rode the partition out without exiting');
});
