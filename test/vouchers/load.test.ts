/**
 * 300 orders at once, the renderer killed (kill -9) in the middle and started again: 300
 * vouchers in the bucket, 300 voucher events delivered, no duplicates.
 */
import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { openEventStream, orderBody, startTestApi, type EventStream } from '../support/api.js';
import { startTestCdc, waitFor } from '../support/cdc.js';
import { spawnRenderer } from '../support/renderer.js';
import { makeTestVhost, s3Client, startTestRedis, startTestS3 } from '../support/services.js';

const db = await makeTestDatabase(t);
const redis = await startTestRedis(t);
const amqpUrl = await makeTestVhost(t);
const s3 = await startTestS3(t, { amqpUrl });
await startTestCdc(t, db, { redisUrl: redis.url, amqpUrl });
const { http, baseUrl } = await startTestApi(t, db, { REDIS_URL: redis.url, AMQP_URL: amqpUrl, ...s3.env });

async function storedVouchers(): Promise<string[]> {
  const client = s3Client(s3.env);
  if (!(await client.bucketExists('vouchers'))) return [];
  const keys: string[] = [];
  for await (const item of client.listObjectsV2('vouchers', 'orders/', true)) {
    if (item.name) keys.push(item.name);
  }
  return keys;
}

t.test('300 orders, a renderer killed mid-run: 300 vouchers, 300 events, no duplicates', async (t) => {
  const first = spawnRenderer(t, db, s3.env);
  const placed = await Promise.all(
    Array.from({ length: 300 }, () => http.request('/api/orders', { body: orderBody() })),
  );
  t.same([...new Set(placed.map((p) => p.status))], [201]);

  // Every client waits for its own voucher over SSE.
  const streams: EventStream[] = await Promise.all(
    placed.map((p) =>
      openEventStream(baseUrl, `/api/orders/${p.json.orderId}/events?token=${p.json.accessToken}`),
    ),
  );
  t.teardown(() => streams.forEach((s) => s.close()));
  const delivered: string[] = [];
  const waiting = streams.map((stream) =>
    stream.next('voucher', 120_000).then((event) => delivered.push((event as { orderId: string }).orderId)),
  );

  await waitFor('some vouchers stored', async () => (await storedVouchers()).length >= 30, 60_000);
  first.child.kill('SIGKILL');
  await first.exited;
  t.ok((await storedVouchers()).length < 300, 'killed mid-run');
  spawnRenderer(t, db, s3.env);

  await Promise.all(waiting);
  t.equal(delivered.length, 300, '300 voucher events');
  t.equal(new Set(delivered).size, 300, 'one per order');
  const keys = await storedVouchers();
  t.equal(keys.length, 300, '300 PDFs in the bucket');
  t.same(keys.sort(), placed.map((p) => `orders/${p.json.orderId}.pdf`).sort(), 'exactly the orders placed');
  const { rows } = await db.owner.query(
    `select count(*)::int as n from crs.orders where status = 'voucher_ready' and voucher_key is not null`,
  );
  t.equal(rows[0].n, 300);
  // No event arrives twice on a stream after its voucher was delivered.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const again = await Promise.allSettled(streams.slice(0, 20).map((s) => s.next('voucher', 200)));
  t.ok(
    again.every((r) => r.status === 'rejected'),
    'no duplicate events',
  );
});
