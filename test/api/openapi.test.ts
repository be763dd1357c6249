/**
 * The OpenAPI document and the app agree: every route the app has is documented, and every
 * documented (route, status) is answered by the app when asked to, and nothing else is. The
 * answers are read back from the app's own request metrics.
 */
import t from 'tap';
import { makeRouters } from '../../api/app.js';
import { makeOpenApiDocument } from '../../api/openapi/document.js';
import { makeTestDatabase } from '../support/database.js';
import { openEventStream, orderBody, startTestApi, type TestApi } from '../support/api.js';
import { makeTestVhost, startTestS3 } from '../support/services.js';
import { makeObjectStore } from '../../common/objectStore.js';
import { loadObjectStoreConfig } from '../../common/config.js';

const db = await makeTestDatabase(t);
const s3 = await startTestS3(t, { amqpUrl: await makeTestVhost(t) });
const live = await startTestApi(t, db, s3.env);
// The same app with its database gone: the 503 answers.
const cut = await startTestApi(t, {
  urls: { ...db.urls, api: db.urls.api.replace(/:\d+\//, ':1/') },
});

// The same app with rate limiting on: the 429 answers.
const limited = await startTestApi(t, db, {
  RATE_LIMIT: 'on',
  RATE_LIMIT_ORDERS_PER_MINUTE: '1',
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '1',
  MAX_EVENT_STREAMS_PER_ADDRESS: '1',
});

type Paths = Record<string, Record<string, { responses: Record<string, unknown> }>>;
const doc = makeOpenApiDocument() as { openapi: string; paths: Paths };
const toKoa = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

const documented = new Set<string>();
for (const [path, methods] of Object.entries(doc.paths)) {
  for (const [method, operation] of Object.entries(methods)) {
    for (const status of Object.keys(operation.responses)) {
      documented.add(`${method.toUpperCase()} ${toKoa(path)} ${status}`);
    }
  }
}

t.equal(doc.openapi, '3.1.0');

t.test('every route of the app is documented, and every documented path is a route', async (t) => {
  const routes = new Set<string>();
  for (const router of makeRouters(live.api.deps)) {
    for (const layer of router.stack) {
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) routes.add(`${method} ${layer.path}`);
    }
  }
  const documentedRoutes = new Set([...documented].map((key) => key.split(' ').slice(0, 2).join(' ')));
  t.same([...routes].sort(), [...documentedRoutes].sort());
});

t.test('the app answers exactly the documented statuses', async (t) => {
  const { http, adminToken } = live;
  const admin = { authorization: `Bearer ${adminToken}` };
  const json = { 'content-type': 'application/json' };

  // POST /api/orders
  await http.request('/api/admin/products/doc-one', { method: 'PUT', headers: admin, body: { total: 1 } });
  const body = orderBody({ productId: 'doc-one', orderId: 'openapi-order-1' });
  const placed = await http.request('/api/orders', { body });
  await http.request('/api/orders', { body });
  await http.request('/api/orders', { body: orderBody({ productId: 'doc-one' }) });
  await http.request('/api/orders', { body: { firstName: '' } });
  await http.request('/api/orders', { body: '{"a":"' + 'x'.repeat(20_000) + '"}', headers: json });
  await http.request('/api/orders', { body: 'x', headers: { 'content-type': 'text/plain' } });
  await cut.http.request('/api/orders', { body: orderBody() });
  await limited.http.request('/api/orders', { body: { firstName: '' } });
  await limited.http.request('/api/orders', { body: { firstName: '' } });
  // Staff and admin routes past the failed-authentication limit (one wrong token, then 429s).
  const wrong = { authorization: `Bearer ${'w'.repeat(40)}` };
  // One event stream held: the next from this address is refused, whatever its route.
  const held = await openEventStream(limited.http.baseUrl, '/api/stock/events');
  await limited.http.request('/api/stock/events');
  await limited.http.request('/api/orders/doc-order-0001/events');
  held.close();
  await limited.http.request('/api/admin/audit', { headers: wrong });
  await limited.http.request('/api/admin/audit', { headers: wrong });
  await limited.http.request('/api/vouchers/AAAAAA-AAAAAA-AAAAAA', { headers: wrong });
  await limited.http.request('/api/vouchers/AAAAAA-AAAAAA-AAAAAA/redeem', { method: 'POST', headers: wrong });
  await limited.http.request('/api/admin/products/doc-one', {
    method: 'PUT',
    headers: wrong,
    body: { total: 1 },
  });
  // The same route from the web page's form: a redirect, or refused without its CSRF token.
  const page = await http.request('/');
  const cookie = String(page.headers['set-cookie']).split(';')[0] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const form = (fields: Record<string, string>) => ({
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams(fields).toString(),
  });
  const customer = orderBody({ productId: 'doc-one' });
  await http.request('/api/admin/products/doc-one', { method: 'PUT', headers: admin, body: { total: 2 } });
  await http.request('/api/orders', form({ ...customer, _csrf: csrf }));
  await http.request('/api/orders', form({ ...orderBody(), _csrf: 'forged' }));
  // GET /api/orders/:orderId
  const self = `/api/orders/${placed.json.orderId}`;
  await http.request(self, { headers: { authorization: `Bearer ${placed.json.accessToken}` } });
  await http.request(self);
  await http.request(self, { headers: { authorization: 'Bearer wrong' } });
  await cut.http.request(self, { headers: { authorization: 'Bearer wrong' } });
  // Server-Sent Events and the voucher
  const bearer = { authorization: `Bearer ${placed.json.accessToken}` };
  const stream = await openEventStream(http.baseUrl, `${self}/events`, bearer);
  stream.close();
  await http.request(`${self}/events`);
  await http.request(`${self}/events`, { headers: { authorization: 'Bearer wrong' } });
  await cut.http.request(`${self}/events`, { headers: bearer });
  await http.request(`${self}/voucher`, { headers: bearer });
  await http.request(`${self}/voucher?expires=1&signature=forged`);
  await cut.http.request(`${self}/voucher`, { headers: bearer });
  const store = makeObjectStore(loadObjectStoreConfig(s3.env));
  await store.client.makeBucket('vouchers');
  const { key } = await store.putVoucher(placed.json.orderId, Buffer.from('%PDF-1.7 test'));
  await db.owner.query('select crs.record_voucher($1, $2)', [placed.json.orderId, key]);
  await http.request(`${self}/voucher`, { headers: bearer });
  // Staff
  const staff = { authorization: `Bearer ${live.staffToken}` };
  const { rows } = await db.owner.query('select coupon_code from crs.orders where order_id = $1', [
    placed.json.orderId,
  ]);
  const code = rows[0].coupon_code as string;
  await http.request(`/api/vouchers/${code}`, { headers: staff });
  await http.request(`/api/vouchers/${code}`);
  await http.request('/api/vouchers/ZZZZZZ-ZZZZZZ-ZZZZZZ', { headers: staff });
  await cut.http.request(`/api/vouchers/${code}`, { headers: { authorization: `Bearer ${cut.staffToken}` } });
  await http.request(`/api/vouchers/${code}/redeem`, { method: 'POST', headers: staff });
  await http.request(`/api/vouchers/${code}/redeem`, { method: 'POST', headers: staff });
  await http.request(`/api/vouchers/${code}/redeem`, { method: 'POST' });
  await http.request('/api/vouchers/ZZZZZZ-ZZZZZZ-ZZZZZZ/redeem', { method: 'POST', headers: staff });
  await cut.http.request(`/api/vouchers/${code}/redeem`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cut.staffToken}` },
  });
  // GET /api/stock
  await http.request('/api/stock');
  await http.request('/api/stock?productId=%20');
  await http.request('/api/stock?productId=missing');
  await cut.http.request('/api/stock');
  // GET /api/stock/events
  (await openEventStream(http.baseUrl, '/api/stock/events')).close();
  await http.request('/api/stock/events?productId=%20');
  await http.request('/api/stock/events?productId=missing');
  await cut.http.request('/api/stock/events');
  // PUT /api/admin/products/:productId
  await http.request('/api/admin/products/doc-two', { method: 'PUT', headers: admin, body: { total: 3 } });
  await http.request('/api/admin/products/doc-two', { method: 'PUT', headers: admin, body: { total: 4 } });
  await http.request('/api/admin/products/doc-one', { method: 'PUT', headers: admin, body: { total: 0 } });
  await http.request('/api/admin/products/doc-two', { method: 'PUT', headers: admin, body: { total: -4 } });
  await http.request('/api/admin/products/doc-two', { method: 'PUT', body: { total: 4 } });
  await http.request('/api/admin/products/doc-two', {
    method: 'PUT',
    headers: { ...admin, ...json },
    body: JSON.stringify({ total: 4, name: 'x'.repeat(20_000) }),
  });
  await http.request('/api/admin/products/doc-two', {
    method: 'PUT',
    headers: { ...admin, 'content-type': 'text/plain' },
    body: '4',
  });
  await cut.http.request('/api/admin/products/doc-two', {
    method: 'PUT',
    headers: { authorization: `Bearer ${cut.adminToken}` },
    body: { total: 4 },
  });
  // GET /api/admin/audit
  await http.request('/api/admin/audit?limit=5', { headers: admin });
  await http.request('/api/admin/audit?limit=0', { headers: admin });
  await http.request('/api/admin/audit');
  await cut.http.request('/api/admin/audit', { headers: { authorization: `Bearer ${cut.adminToken}` } });
  // The rest
  await http.request('/api/openapi.json');
  await http.request('/healthz');
  await http.request('/readyz');
  await http.request('/readyz?exclude=nothing-such');
  await cut.http.request('/readyz');
  await http.request('/metrics');

  const answered = new Set<string>();
  for (const app of [live, cut, limited] as TestApi[]) {
    const metric = await app.api.deps.metrics.requests.get();
    for (const { labels } of metric.values) {
      if (labels['route'] === 'unmatched') continue;
      // The web pages (web/) are HTML for people, not part of the API's document.
      if (!/^\/(api|healthz|readyz|metrics)/.test(String(labels['route']))) continue;
      answered.add(`${labels['method']} ${labels['route']} ${labels['status']}`);
    }
  }
  t.same([...answered].filter((key) => !documented.has(key)).sort(), [], 'nothing undocumented was answered');
  t.same([...documented].filter((key) => !answered.has(key)).sort(), [], 'every documented answer was seen');
});

t.test('the document is served', async (t) => {
  const res = await live.http.request('/api/openapi.json');
  t.equal(res.status, 200);
  t.equal(res.json.openapi, '3.1.0');
  t.ok(res.json.paths['/api/orders'].post);
});
