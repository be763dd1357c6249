/**
 * The API cut off from Postgres the way a lost node is: bytes stop, its sockets stay open
 * (drill/partitionProxy.ts). Every request must still be answered, within the query
 * timeout, with a 503 the client may retry; readiness must say so within a probe's timeout;
 * an order whose request was cut off may still be committed when the network comes back
 * (the server gets the query late), and the retry with the same order id finds it: one order.
 * After the heal the API serves again within 30 s, without a restart.
 */
import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';
import { waitFor } from '../support/cdc.js';
import { proxyFor } from '../support/partition.js';

const db = await makeTestDatabase(t);
await db.owner.query(`select crs.upsert_product('cut', 'Cut', 1000)`);

t.test('cut off from Postgres: 503s in bounded time, then one order per id after the heal', async (t) => {
  const proxy = await proxyFor(t, db.urls.api);
  const { http } = await startTestApi(t, { urls: { ...db.urls, api: proxy.rewrite(db.urls.api) } });
  const first = await http.request('/api/orders', { body: orderBody({ productId: 'cut' }) });
  t.equal(first.status, 201, 'serving before the cut');

  t.equal(
    (await http.request('/readyz?exclude=postgres')).status,
    200,
    'ready for Kubernetes before the cut',
  );
  proxy.cut();
  const ready = await http.request('/readyz');
  t.equal(ready.status, 503, 'not ready while cut off');
  t.match(ready.json.error.details.checks.postgres, /unreachable/);
  // The kubelet's probe leaves the shared database out: the pod stays in the Service and
  // answers 503 with Retry-After itself, rather than every pod leaving at once.
  const probe = await http.request('/readyz?exclude=postgres');
  t.equal(probe.status, 200, 'still ready for Kubernetes (exclude=postgres)');
  t.match(probe.json.checks.postgres, /^excluded/);

  const cutOrder = orderBody({ productId: 'cut', orderId: 'cut-off-order-01' });
  const sentAt = Date.now();
  const during = await http.request('/api/orders', { body: cutOrder });
  const answeredMs = Date.now() - sentAt;
  t.equal(during.status, 503, `answered 503 while cut off (${during.json?.error?.code})`);
  t.ok(during.headers['retry-after'], 'with Retry-After');
  t.ok(answeredMs <= 15_000, `answered within ${answeredMs} ms (query timeout 10 s)`);
  const stock = await http.request('/api/stock?productId=cut');
  t.ok([200, 503].includes(stock.status), `stock answered ${stock.status} while cut off`);

  proxy.heal();
  const healedAt = Date.now();
  // The customer retries with the same order id until it is decided.
  const retried = await waitFor(
    'the retried order to be decided',
    async () => {
      const again = await http.request('/api/orders', { body: cutOrder });
      return again.status === 503 ? undefined : again;
    },
    30_000,
  );
  t.ok(
    [200, 201].includes(retried.status),
    `the retry is decided (${retried.status}) ${Date.now() - healedAt} ms after the heal`,
  );
  t.equal(retried.json.orderId, 'cut-off-order-01');
  const { rows } = await db.owner.query<{ n: number }>(
    `select count(*)::int as n from crs.orders where order_id = 'cut-off-order-01'`,
  );
  t.equal(rows[0]?.n, 1, 'one order for the id, however the cut-off request ended');
  await waitFor('ready again', async () => (await http.request('/readyz')).status === 200, 30_000);
  const after = await http.request('/api/orders', { body: orderBody({ productId: 'cut' }) });
  t.equal(after.status, 201, 'new orders after the heal');
  const { rows: all } = await db.owner.query<{ remaining: number }>(
    `select remaining from crs.get_stock('cut')`,
  );
  t.equal(all[0]?.remaining, 997, 'three orders, three units');
});
