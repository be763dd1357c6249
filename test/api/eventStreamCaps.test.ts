/**
 * Event streams are capped per client address and per order (http/eventStream.ts), not
 * only per process: one client cannot hold every stream of an API process, nor open many on
 * one order. Over a cap: 429 rate_limited with Retry-After; a closed stream frees its place.
 */
import t from 'tap';
import { openEventStream, orderBody, startTestApi, type EventStream } from '../support/api.js';
import { waitFor } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';

const db = await makeTestDatabase(t);
const { api, http, baseUrl } = await startTestApi(t, db, {
  RATE_LIMIT: 'on',
  RATE_LIMIT_ORDERS_PER_MINUTE: '100',
  MAX_EVENT_STREAMS_PER_ADDRESS: '3',
  MAX_EVENT_STREAMS_PER_ORDER: '2',
});
const open: EventStream[] = [];
t.teardown(() => open.forEach((stream) => stream.close()));
const openStream = async (path: string, headers: Record<string, string> = {}) => {
  const stream = await openEventStream(baseUrl, path, headers);
  open.push(stream);
  return stream;
};
const streamsHeld = () => api.deps.lifecycle.streams.size;

t.test('one address holds at most its cap; a closed stream frees its place', async (t) => {
  const first = await Promise.all([1, 2, 3].map(() => openStream('/api/stock/events')));
  t.same(
    first.map((s) => s.status),
    [200, 200, 200],
  );
  const refused = await openStream('/api/stock/events');
  t.equal(refused.status, 429, 'the fourth from one address');
  t.equal(refused.headers['retry-after'], '10');
  first[0]!.close();
  await waitFor('the closed stream to be let go', async () => streamsHeld() === 2);
  t.equal((await openStream('/api/stock/events')).status, 200, 'its place is free again');
  for (const stream of open) stream.close();
  await waitFor('every stream closed', async () => streamsHeld() === 0);
});

t.test('one order has at most its cap of streams; a wrong token is not counted', async (t) => {
  const placed = await http.request('/api/orders', { body: orderBody() });
  t.equal(placed.status, 201);
  const { orderId, accessToken } = placed.json as { orderId: string; accessToken: string };
  const path = `/api/orders/${orderId}/events`;
  const auth = { authorization: `Bearer ${accessToken}` };
  const wrong = await openStream(path, { authorization: `Bearer ${'x'.repeat(43)}` });
  t.equal(wrong.status, 404, 'a wrong token reveals nothing');
  const two = [await openStream(path, auth), await openStream(path, auth)];
  t.same(
    two.map((s) => s.status),
    [200, 200],
  );
  t.equal((await openStream(path, auth)).status, 429, 'the third on one order');
  t.equal((await openStream('/api/stock/events')).status, 200, 'the address still has room');
  two[0]!.close();
  await waitFor('the closed stream to be let go', async () => streamsHeld() === 2);
  t.equal((await openStream(path, auth)).status, 200, 'its place is free again');
});
