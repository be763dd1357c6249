import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';

const db = await makeTestDatabase(t);

t.test('orders past the per-address limit get 429 with Retry-After, and write nothing', async (t) => {
  const { http } = await startTestApi(t, db, { RATE_LIMIT: 'on', RATE_LIMIT_ORDERS_PER_MINUTE: '3' });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    statuses.push((await http.request('/api/orders', { body: orderBody() })).status);
  }
  t.same(statuses, [201, 201, 201, 429, 429]);
  const limited = await http.request('/api/orders', { body: orderBody() });
  t.equal(limited.json.error.code, 'rate_limited');
  const retryAfter = Number(limited.headers['retry-after']);
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  const { rows } = await db.owner.query('select count(*)::int as n from crs.orders');
  t.equal(rows[0].n, 3);
  t.equal((await http.request('/api/stock')).status, 200, 'reads are not limited');
});

t.test('RATE_LIMIT=off lets everything through', async (t) => {
  const { http } = await startTestApi(t, db, { RATE_LIMIT: 'off', RATE_LIMIT_ORDERS_PER_MINUTE: '1' });
  const statuses = await Promise.all(
    Array.from({ length: 5 }, () => http.request('/api/orders', { body: orderBody() }).then((r) => r.status)),
  );
  t.same(statuses, [201, 201, 201, 201, 201]);
});

t.test('behind a trusted proxy the limit is per forwarded address', async (t) => {
  const { http } = await startTestApi(t, db, {
    RATE_LIMIT: 'on',
    RATE_LIMIT_ORDERS_PER_MINUTE: '1',
    TRUST_PROXY: 'on',
  });
  const from = (ip: string) =>
    http
      .request('/api/orders', { body: orderBody(), headers: { 'x-forwarded-for': ip } })
      .then((r) => r.status);
  t.same([await from('203.0.113.1'), await from('203.0.113.2'), await from('203.0.113.1')], [201, 201, 429]);
});
