/**
 * The typed client (client/index.ts, exported as cloud-reservation-system/client) against the
 * real API: a product created, an order taken and refused, read back, its coupon looked up and
 * redeemed once, the audit trail read. The types are checked by tsc over this file; the answers
 * by the assertions.
 */
import t from 'tap';
import { createCrsClient, orderAuth, type CrsClient } from '../../client/index.js';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';

const db = await makeTestDatabase(t);
const live = await startTestApi(t, db);

t.test('the package exports the client', async (t) => {
  const exported = (await import('cloud-reservation-system/client')) as { createCrsClient?: unknown };
  t.type(
    exported.createCrsClient,
    'function',
    'cloud-reservation-system/client resolves (dist, built by npm ci)',
  );
});

t.test('a customer, staff and an admin through the typed client', async (t) => {
  const admin: CrsClient = createCrsClient({ baseUrl: live.baseUrl, token: live.adminToken });
  const staff = createCrsClient({ baseUrl: live.baseUrl, token: live.staffToken });
  const customer = createCrsClient({ baseUrl: `${live.baseUrl}/` });

  const created = await admin.PUT('/api/admin/products/{productId}', {
    params: { path: { productId: 'client-one' } },
    body: { name: 'Client test', total: 1 },
  });
  t.equal(created.response.status, 201);
  t.same(created.data, {
    productId: 'client-one',
    name: 'Client test',
    total: 1,
    remaining: 1,
    available: true,
  });

  const placed = await customer.POST('/api/orders', { body: orderBody({ productId: 'client-one' }) });
  t.equal(placed.response.status, 201);
  if (!placed.data) throw new Error(`not reserved: ${JSON.stringify(placed.error)}`);
  const { orderId, accessToken } = placed.data;
  t.equal(placed.response.headers.get('location'), `/api/orders/${orderId}`);
  t.equal(placed.data.status, 'reserved');

  const refused = await customer.POST('/api/orders', { body: orderBody({ productId: 'client-one' }) });
  t.equal(refused.response.status, 409);
  t.equal(refused.error?.error.code, 'out_of_stock', 'the error body is typed and read as such');

  const invalid = await customer.POST('/api/orders', { body: { firstName: '', lastName: 'X', phone: 'no' } });
  t.equal(invalid.response.status, 400);
  t.equal(invalid.error?.error.code, 'invalid_request');

  const order = await customer.GET('/api/orders/{orderId}', {
    params: { path: { orderId } },
    headers: orderAuth(accessToken),
  });
  t.equal(order.data?.status, 'reserved');
  t.equal(order.data?.productId, 'client-one');
  const anonymous = await customer.GET('/api/orders/{orderId}', { params: { path: { orderId } } });
  t.equal(anonymous.response.status, 401);
  t.equal(anonymous.response.headers.get('www-authenticate'), 'Bearer');

  const stock = await customer.GET('/api/stock', { params: { query: { productId: 'client-one' } } });
  t.same(stock.data, {
    productId: 'client-one',
    name: 'Client test',
    total: 1,
    remaining: 0,
    available: false,
  });

  const { rows } = await db.owner.query<{ coupon_code: string }>(
    'select coupon_code from crs.orders where order_id = $1',
    [orderId],
  );
  const code = rows[0]!.coupon_code;
  const coupon = await staff.GET('/api/vouchers/{code}', { params: { path: { code: code.toLowerCase() } } });
  t.equal(coupon.data?.orderId, orderId, 'a coupon is found in any case');
  const redeemed = await staff.POST('/api/vouchers/{code}/redeem', { params: { path: { code } } });
  t.equal(redeemed.data?.status, 'redeemed');
  const again = await staff.POST('/api/vouchers/{code}/redeem', { params: { path: { code } } });
  t.equal(again.response.status, 409);
  t.equal(again.error?.error.code, 'already_redeemed');

  const audit = await admin.GET('/api/admin/audit', { params: { query: { limit: 10 } } });
  const actions = (audit.data?.entries ?? []).map(
    (entry) => `${entry.action}:${String(entry.details['outcome'])}`,
  );
  t.same(actions.slice(0, 3), ['redeem:already_redeemed', 'redeem:redeemed', 'stock_set:created']);
});
