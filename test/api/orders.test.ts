import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';

const db = await makeTestDatabase(t);
const { http, adminToken } = await startTestApi(t, db);

await http.request('/api/admin/products/tickets', {
  method: 'PUT',
  headers: { authorization: `Bearer ${adminToken}` },
  body: { name: 'Concert ticket', total: 10 },
});

t.test('a valid order is reserved with a token and links', async (t) => {
  const res = await http.request('/api/orders', { body: orderBody({ productId: 'tickets' }) });
  t.equal(res.status, 201);
  t.equal(res.json.status, 'reserved');
  t.match(res.json.orderId, /^[A-Za-z0-9_-]{8,64}$/);
  t.match(res.json.accessToken, /^[A-Za-z0-9_-]{43}$/);
  t.same(res.json.links, {
    self: `/api/orders/${res.json.orderId}`,
    events: `/api/orders/${res.json.orderId}/events`,
    voucher: `/api/orders/${res.json.orderId}/voucher`,
  });
  const { rows } = await db.owner.query(
    'select customer_key, coupon_code, token_hash from crs.orders where order_id = $1',
    [res.json.orderId],
  );
  t.equal(rows.length, 1);
  t.match(rows[0].coupon_code, /^[0-9A-HJKMNP-TV-Z]{6}-[0-9A-HJKMNP-TV-Z]{6}-[0-9A-HJKMNP-TV-Z]{6}$/);
  t.not(rows[0].token_hash.toString('base64url'), res.json.accessToken, 'only a hash is stored');
});

t.test('the same order id with the same details replays the first answer', async (t) => {
  const body = orderBody({ productId: 'tickets', orderId: 'replay-order-0001' });
  const first = await http.request('/api/orders', { body });
  const again = await http.request('/api/orders', { body });
  t.equal(first.status, 201);
  t.equal(again.status, 200);
  t.same(again.json, first.json, 'same body, same access token');
  const { rows } = await db.owner.query(
    `select count(*)::int as n from crs.orders where order_id = 'replay-order-0001'`,
  );
  t.equal(rows[0].n, 1);
});

t.test('the same order id with other details is a conflict', async (t) => {
  const body = orderBody({ productId: 'tickets', orderId: 'conflict-order-01' });
  t.equal((await http.request('/api/orders', { body })).status, 201);
  const other = await http.request('/api/orders', { body: { ...body, firstName: 'Someone' } });
  t.equal(other.status, 409);
  t.equal(other.json.error.code, 'order_id_conflict');
});

t.test('phone numbers are one customer however they are written', async (t) => {
  const first = await http.request('/api/orders', {
    body: orderBody({ productId: 'tickets', phone: '+358 40 123 4567' }),
  });
  t.equal(first.status, 201);
  for (const phone of ['+358401234567', '040 123 4567', '+358 (40) 123-4567']) {
    const again = await http.request('/api/orders', {
      body: orderBody({ productId: 'tickets', phone, firstName: 'Other' }),
    });
    t.equal(again.status, 409, phone);
    t.equal(again.json.error.code, 'duplicate_customer', phone);
  }
  const { rows } = await db.owner.query(
    `select phone, customer_key = crs.customer_key_hash('+358401234567') as keyed
       from crs.orders where order_id = $1`,
    [first.json.orderId],
  );
  t.equal(rows[0].phone, '+358401234567');
  t.equal(rows[0].keyed, true, 'the customer key is the keyed hash of the normalised phone');
});

t.test('one customer may hold one order per product, not one overall', async (t) => {
  const phone = '+358 50 555 0101';
  t.equal(
    (await http.request('/api/orders', { body: orderBody({ productId: 'tickets', phone }) })).status,
    201,
  );
  t.equal((await http.request('/api/orders', { body: orderBody({ phone }) })).status, 201);
});

t.test('names in any script are kept as written (NFC, trimmed)', async (t) => {
  const res = await http.request('/api/orders', {
    body: orderBody({ productId: 'tickets', firstName: '  Zoë ', lastName: 'Ελληνικά 山田 عربي' }),
  });
  t.equal(res.status, 201);
  const { rows } = await db.owner.query('select first_name, last_name from crs.orders where order_id = $1', [
    res.json.orderId,
  ]);
  t.same(rows[0], { first_name: 'Zoë', last_name: 'Ελληνικά 山田 عربي' });
});

t.test('an order can be read with its token only', async (t) => {
  const placed = await http.request('/api/orders', { body: orderBody({ productId: 'tickets' }) });
  const path = `/api/orders/${placed.json.orderId}`;

  const withHeader = await http.request(path, {
    headers: { authorization: `Bearer ${placed.json.accessToken}` },
  });
  t.equal(withHeader.status, 200);
  t.equal(withHeader.json.orderId, placed.json.orderId);
  t.equal(withHeader.json.status, 'reserved');
  t.ok(!Number.isNaN(Date.parse(withHeader.json.createdAt)));

  const withQuery = await http.request(`${path}?token=${placed.json.accessToken}`);
  t.equal(withQuery.status, 200);

  const missing = await http.request(path);
  t.equal(missing.status, 401);
  t.equal(missing.json.error.code, 'unauthorized');

  const wrong = await http.request(path, { headers: { authorization: 'Bearer not-the-token' } });
  t.equal(wrong.status, 404, 'a wrong token does not reveal that the order exists');
  const unknown = await http.request('/api/orders/no-such-order-123', {
    headers: { authorization: `Bearer ${placed.json.accessToken}` },
  });
  t.equal(unknown.status, 404);
  t.same(wrong.json, unknown.json, 'wrong token and unknown order answer alike');

  const otherOrder = await http.request('/api/orders', { body: orderBody({ productId: 'tickets' }) });
  const crossed = await http.request(path, {
    headers: { authorization: `Bearer ${otherOrder.json.accessToken}` },
  });
  t.equal(crossed.status, 404, "another order's token does not open this one");
});

t.test('out of stock is answered once the stock is gone, and nothing is written', async (t) => {
  await http.request('/api/admin/products/tiny', {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}` },
    body: { total: 1 },
  });
  t.equal((await http.request('/api/orders', { body: orderBody({ productId: 'tiny' }) })).status, 201);
  const refused = await http.request('/api/orders', { body: orderBody({ productId: 'tiny' }) });
  t.equal(refused.status, 409);
  t.equal(refused.json.error.code, 'out_of_stock');
  const { rows } = await db.owner.query(
    `select count(*)::int as n from crs.orders where product_id = 'tiny'`,
  );
  t.equal(rows[0].n, 1);
  const stock = await http.request('/api/stock?productId=tiny');
  t.same(stock.json, { productId: 'tiny', name: 'tiny', total: 1, remaining: 0, available: false });
});

t.test('an unknown product is a field error', async (t) => {
  const res = await http.request('/api/orders', { body: orderBody({ productId: 'nope' }) });
  t.equal(res.status, 400);
  t.same(res.json.error.details, [{ field: 'productId', message: 'no such product' }]);
});
