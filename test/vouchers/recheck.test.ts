/**
 * A voucher recorded after the client subscribed but whose notification never came (uploaded
 * just before the listener was in place, or RabbitMQ missing): the stream asks the database
 * again and still delivers the event. Here the API has no RabbitMQ at all, so the only way
 * the event can arrive is a later look.
 */
import t, { type Test } from 'tap';
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
