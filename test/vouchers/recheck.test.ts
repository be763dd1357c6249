/**
 * A voucher recorded after the client subscribed but whose notification never came (uploaded
 * just before the listener was in place, or RabbitMQ missing): the stream asks the database
 * again and still delivers the event. Here the API has no RabbitMQ at all, so the only way
 * the event can arrive is a later look.
 */
import t, { type Test } from 'tap';
import { ordersWithVouchers } from '../../sql/getOrder.js';
import { makeVoucherRechecks } from '../../api/vouchers/voucherRechecks.js';
import { makeLogger } from '../../common/log.js';
import { makeTestDatabase } from '../support/database.js';
import { openEventStream, orderBody, startTestApi } from '../support/api.js';

const db = await makeTestDatabase(t);
const { http, baseUrl } = await startTestApi(t, db);

/** A new order and its voucher stream, open. */
async function orderWithStream(t: Test) {
  const order = await http.request('/api/orders', { body: orderBody() });
  t.equal(order.status, 201);
  const { orderId, accessToken } = order.json as { orderId: string; accessToken: string };
  const stream = await openEventStream(baseUrl, `/api/orders/${orderId}/events?token=${accessToken}`);
  t.equal(stream.status, 200);
  return { orderId, stream };
}

t.test('recorded after the subscription, no notification: the event still arrives', async (t) => {
  const { orderId, stream } = await orderWithStream(t);
  // The voucher gets recorded with no notification at all.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await db.owner.query(`select crs.record_voucher($1, $2)`, [orderId, `vouchers/${orderId}.pdf`]);
  const started = Date.now();
  const event = (await stream.next('voucher', 10_000)) as { orderId: string; url: string };
  t.equal(event.orderId, orderId);
  t.match(event.url, new RegExp(`/api/orders/${orderId}/voucher\\?`));
  t.ok(Date.now() - started < 5_000, 'within the recheck, not the stream lifetime');
  stream.close();
});

t.test('recorded after the first recheck found nothing: a later one delivers it', async (t) => {
  const { orderId, stream } = await orderWithStream(t);
  // Past the first recheck (2 s): the next comes 4 s after it.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await db.owner.query(`select crs.record_voucher($1, $2)`, [orderId, `vouchers/${orderId}.pdf`]);
  const event = (await stream.next('voucher', 10_000)) as { orderId: string };
  t.equal(event.orderId, orderId, 'delivered by the second recheck');
  stream.close();
});

t.test('streams waiting together ask the database together', async (t) => {
  const api = db.pool('api');
  const asked: number[] = [];
  const rechecks = makeVoucherRechecks({
    storedAmong: async (orderIds) => {
      asked.push(orderIds.length);
      return (await ordersWithVouchers(api, orderIds)).map((o) => o.orderId);
    },
    log: makeLogger({ level: 'silent', component: 'test' }),
    firstMs: 1_000,
    tickMs: 50,
  });
  t.teardown(() => rechecks.close());
  const orders = await Promise.all(
    Array.from({ length: 40 }, async () => {
      const order = await http.request('/api/orders', { body: orderBody() });
      return (order.json as { orderId: string }).orderId;
    }),
  );
  const found = new Set<string>();
  const stops = orders.map((orderId) => rechecks.watch(orderId, () => found.add(orderId)));
  // Half recorded before the first look, a quarter after it; the last quarter's streams end.
  for (const orderId of orders.slice(0, 20)) {
    await db.owner.query(`select crs.record_voucher($1, $2)`, [orderId, `vouchers/${orderId}.pdf`]);
  }
  for (const stop of stops.slice(30)) stop();
  await waitUntil(() => found.size === 20, 5_000);
  t.same([...found].sort(), orders.slice(0, 20).sort(), 'the recorded ones, each once');
  t.same(asked, [30], 'one query for the 30 waiting streams');
  for (const orderId of orders.slice(20, 30)) {
    await db.owner.query(`select crs.record_voucher($1, $2)`, [orderId, `vouchers/${orderId}.pdf`]);
  }
  await waitUntil(() => found.size === 30, 5_000);
  t.same(asked, [30, 10], 'the next look: the 10 still waiting, together');
  t.equal(rechecks.size(), 0, 'nothing left waiting');
});

/** Polls `check` every 20 ms until it holds or `ms` pass. */
async function waitUntil(check: () => boolean, ms: number) {
  for (const end = Date.now() + ms; !check() && Date.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
