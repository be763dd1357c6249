/**
 * The OpenAPI document tells the whole truth. Real requests for every operation (its happy path
 * and each error it can answer, in JSON and as the HTML of content negotiation) are checked
 * against the document: the status is declared for the operation, every header sent is declared
 * and every required one sent, the body is a declared media type and valid against its schema.
 * And every declared answer was seen, so nothing in the document is fiction.
 */
import t from 'tap';
import { makeRouters } from '../../api/app.js';
import { makeOpenApiDocument } from '../../api/openapi/document.js';
import { parametersFrom } from '../../api/openapi/parameters.js';
import { parametersOf } from '../../http/validate.js';
import { makeTestDatabase } from '../support/database.js';
import {
  openEventStream,
  orderBody,
  startTestApi,
  type HttpRequestOptions,
  type TestApi,
} from '../support/api.js';
import { makeTestVhost, startTestS3 } from '../support/services.js';
import { makeConformance, type Exchange } from '../support/openapiConformance.js';
import { makeObjectStore } from '../../common/objectStore.js';
import { loadObjectStoreConfig } from '../../common/config.js';
import { newSecret } from '../../devstack/secrets.js';

const db = await makeTestDatabase(t);
const s3 = await startTestS3(t, { amqpUrl: await makeTestVhost(t) });
// One key for both, so a form's CSRF token from one is good on the other.
const ORDER_TOKEN_KEY = newSecret();
const live = await startTestApi(t, db, { ...s3.env, ORDER_TOKEN_KEY });
// The same app with its database gone: the 503 answers.
const cut = await startTestApi(
  t,
  { urls: { ...db.urls, api: db.urls.api.replace(/:\d+\//, ':1/') } },
  { ORDER_TOKEN_KEY },
);

// The same app with rate limiting on: the 429 answers.
const limited = await startTestApi(t, db, {
  RATE_LIMIT: 'on',
  RATE_LIMIT_ORDERS_PER_MINUTE: '1',
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '1',
  MAX_EVENT_STREAMS_PER_ADDRESS: '1',
  ORDER_TOKEN_KEY,
});

type Paths = Record<string, Record<string, { responses: Record<string, unknown> }>>;
const doc = makeOpenApiDocument() as { openapi: string; paths: Paths };
const toKoa = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

t.equal(doc.openapi, '3.1.0');

t.test('every route of the app is documented, and every documented path is a route', async (t) => {
  const routes = new Set<string>();
  for (const router of makeRouters(live.api.deps)) {
    for (const layer of router.stack) {
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) routes.add(`${method} ${layer.path}`);
    }
  }
  const documented = new Set<string>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) documented.add(`${method.toUpperCase()} ${toKoa(path)}`);
  }
  t.same([...routes].sort(), [...documented].sort());
});

t.test('every operation documents exactly the parameters its route parses', async (t) => {
  type Operation = { parameters?: unknown[] };
  const operations = doc.paths as unknown as Record<string, Record<string, Operation>>;
  for (const router of makeRouters(live.api.deps)) {
    for (const layer of router.stack) {
      const where = String(layer.path);
      const declared = layer.stack.map(parametersOf).find((found) => found !== undefined) ?? {};
      // A path parameter of the route is one the route declares (and no other).
      t.same(
        layer.paramNames.map((param) => String(param.name)),
        Object.keys(declared.path?.shape ?? {}),
        `${where}: the path's parameters are the path schema's keys`,
      );
      const expected = parametersFrom(declared);
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) {
        const operation = operations[where.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
        t.same(operation?.parameters ?? [], expected, `${method} ${where}`);
      }
    }
  }
});

/** Every exchange of the test below, in order. */
const exchanges: Exchange[] = [];
function recording(app: TestApi) {
  return {
    baseUrl: app.http.baseUrl,
    async request(path: string, options: HttpRequestOptions = {}) {
      const res = await app.http.request(path, options);
      const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
      exchanges.push({ method, path, status: res.status, headers: res.headers, text: res.text });
      return res;
    },
    async stream(path: string, headers: Record<string, string> = {}) {
      const stream = await openEventStream(app.http.baseUrl, path, headers);
      exchanges.push({
        method: 'GET',
        path,
        status: stream.status,
        headers: stream.headers,
        text: undefined,
      });
      return stream;
    },
  };
}

const conformance = makeConformance(makeOpenApiDocument());

t.test('every answer of every operation conforms to the document', async (t) => {
  const http = recording(live);
  const offline = recording(cut);
  const strict = recording(limited);
  const admin = { authorization: `Bearer ${live.adminToken}` };
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
  await offline.request('/api/orders', { body: orderBody() });
  await strict.request('/api/orders', { body: { firstName: '' } });
  await strict.request('/api/orders', { body: { firstName: '' } });
  // Staff and admin routes past the failed-authentication limit (one wrong token, then 429s).
  const wrong = { authorization: `Bearer ${'w'.repeat(40)}` };
  // One event stream held: the next from this address is refused, whatever its route.
  const held = await strict.stream('/api/stock/events');
  await strict.request('/api/stock/events');
  await strict.request('/api/orders/doc-order-0001/events');
  held.close();
  await strict.request('/api/admin/audit', { headers: wrong });
  await strict.request('/api/admin/audit', { headers: wrong });
  await strict.request('/api/vouchers/AAAAAA-AAAAAA-AAAAAA', { headers: wrong });
  await strict.request('/api/vouchers/AAAAAA-AAAAAA-AAAAAA/redeem', { method: 'POST', headers: wrong });
  await strict.request('/api/admin/products/doc-one', {
    method: 'PUT',
    headers: wrong,
    body: { total: 1 },
  });
  // The same route from the web page's form: a redirect, HTML under the same statuses for
  // htmx, or refused without its CSRF token.
  const page = await live.http.request('/');
  const cookie = String(page.headers['set-cookie']).split(';')[0] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  const htmx = { 'hx-request': 'true' };
  await http.request('/api/admin/products/doc-form', { method: 'PUT', headers: admin, body: { total: 3 } });
  const formOrder = (fields: Record<string, unknown> = {}) =>
    orderBody({ productId: 'doc-form', _csrf: csrf, ...fields }) as Record<string, string>;
  await http.request('/api/orders', form(formOrder(), { accept: 'text/html' }));
  await http.request('/api/orders', form(formOrder(), { accept: 'text/plain' }));
  const twice = formOrder({ orderId: 'openapi-form-order-1' });
  await http.request('/api/orders', form(twice, htmx));
  await http.request('/api/orders', form(twice, htmx));
  await http.request('/api/orders', form(formOrder(), htmx));
  await http.request('/api/orders', form(formOrder({ firstName: '' }), htmx));
  await http.request('/api/orders', form(formOrder({ _csrf: 'forged' })));
  await http.request('/api/orders', form(formOrder({ _csrf: 'forged' }), htmx));
  await http.request('/api/orders', form(formOrder({ lastName: 'x'.repeat(20_000) }), htmx));
  await offline.request('/api/orders', form(formOrder(), htmx));
  const limitedPage = await limited.http.request('/');
  await strict.request('/api/orders', {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: String(limitedPage.headers['set-cookie']).split(';')[0] ?? '',
      ...htmx,
    },
    body: new URLSearchParams(formOrder()).toString(),
  });
  // GET /api/orders/:orderId
  const self = `/api/orders/${placed.json.orderId}`;
  await http.request(self, { headers: { authorization: `Bearer ${placed.json.accessToken}` } });
  await http.request(self);
  await http.request(self, { headers: { authorization: 'Bearer wrong' } });
  // ... and as HTML: the order page for a browser, its fragment for htmx, the errors as pages.
  await http.request(self, {
    headers: { authorization: `Bearer ${placed.json.accessToken}`, accept: 'text/html' },
  });
  await http.request(self, { headers: { authorization: `Bearer ${placed.json.accessToken}`, ...htmx } });
  await http.request(self, { headers: { accept: 'text/html' } });
  await http.request(self, { headers: { authorization: 'Bearer wrong', accept: 'text/html' } });
  await offline.request(self, { headers: { authorization: 'Bearer wrong', accept: 'text/html' } });
  await offline.request(self, { headers: { authorization: 'Bearer wrong' } });
  // Server-Sent Events and the voucher
  const bearer = { authorization: `Bearer ${placed.json.accessToken}` };
  const stream = await http.stream(`${self}/events`, bearer);
  stream.close();
  await http.request(`${self}/events`);
  await http.request(`${self}/events`, { headers: { authorization: 'Bearer wrong' } });
  await offline.request(`${self}/events`, { headers: bearer });
  await http.request(`${self}/voucher`, { headers: bearer });
  await http.request(`${self}/voucher?expires=1&signature=forged`);
  await offline.request(`${self}/voucher`, { headers: bearer });
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
  await offline.request(`/api/vouchers/${code}`, { headers: { authorization: `Bearer ${cut.staffToken}` } });
  await http.request(`/api/vouchers/${code}/redeem`, { method: 'POST', headers: staff });
  await http.request(`/api/vouchers/${code}/redeem`, { method: 'POST', headers: staff });
  await http.request(`/api/vouchers/${code}/redeem`, { method: 'POST' });
  await http.request('/api/vouchers/ZZZZZZ-ZZZZZZ-ZZZZZZ/redeem', { method: 'POST', headers: staff });
  await offline.request(`/api/vouchers/${code}/redeem`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cut.staffToken}` },
  });
  // GET /api/stock
  await http.request('/api/stock');
  await http.request('/api/stock?productId=%20');
  await http.request('/api/stock?productId=missing');
  await offline.request('/api/stock');
  // GET /api/stock/events
  (await http.stream('/api/stock/events')).close();
  await http.request('/api/stock/events?productId=%20');
  await http.request('/api/stock/events?productId=missing');
  await offline.request('/api/stock/events');
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
  await offline.request('/api/admin/products/doc-two', {
    method: 'PUT',
    headers: { authorization: `Bearer ${cut.adminToken}` },
    body: { total: 4 },
  });
  // GET /api/admin/audit
  await http.request('/api/admin/audit?limit=5', { headers: admin });
  await http.request('/api/admin/audit?limit=0', { headers: admin });
  await http.request('/api/admin/audit');
  await offline.request('/api/admin/audit', { headers: { authorization: `Bearer ${cut.adminToken}` } });
  // The rest
  await http.request('/api/openapi.json');
  await http.request('/healthz');
  await http.request('/readyz');
  await http.request('/readyz?exclude=nothing-such');
  await offline.request('/readyz');
  await http.request('/metrics');

  const problems = exchanges.flatMap((exchange) => conformance.check(exchange));
  t.same(problems, [], 'every answer is as documented');
  t.same(conformance.unseen(), [], 'every documented answer was seen');
});

t.test('the document is served', async (t) => {
  const res = await live.http.request('/api/openapi.json');
  t.equal(res.status, 200);
  t.equal(res.json.openapi, '3.1.0');
  t.ok(res.json.paths['/api/orders'].post);
});
